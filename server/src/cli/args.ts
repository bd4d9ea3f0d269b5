/**
 * Command-line parsing shared by the commands: node:util's parseArgs over the command's option table
 * (commandSpecs.ts), with every mistake said in one line of our own that names the option, the nearest
 * real one and `--help` (exit 2) — Node's own messages suggest `-- "--jsn"`, which helps nobody here.
 */
import { parseArgs } from 'node:util';
import { levenshtein } from '../mapping/suggest';
import { setPythonInterpreter } from '../source/pythonEnv';
import { CommandSpec, OptionSpec } from './commandSpecs';
import { UsageError } from './exit';

type Options = CommandSpec['options'];

/** parseArgs' view of a spec's options (it rejects unknown fields such as `help`). */
type ParseOptions<O extends Options> = { [K in keyof O]: Pick<O[K], Extract<keyof O[K], 'type' | 'short' | 'multiple' | 'default'>> };

function parseOptions<O extends Options>(options: O): ParseOptions<O> {
  const out: Record<string, Partial<OptionSpec>> = {};
  for (const [name, o] of Object.entries(options)) {
    out[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}), ...(o.default !== undefined ? { default: o.default } : {}) };
  }
  return out as ParseOptions<O>;
}

/** True when the arguments ask for the command's help (`--help` or `-h`, not as another option's value, not after `--`). */
export function asksForHelp(args: string[], spec: CommandSpec): boolean {
  const { tokens } = parseArgs({ args, options: parseOptions(spec.options), allowPositionals: true, strict: false, tokens: true });
  return tokens.some((t) => t.kind === 'option' && (t.name === 'help' || t.name === 'h'));
}

export function parseCommandArgs<S extends CommandSpec>(args: string[], spec: S, opts: { positionals?: boolean } = {}) {
  const options = parseOptions(spec.options as S['options']);
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  const hint = `(tensorport ${spec.name} --help)`;
  for (const t of tokens) {
    if (t.kind === 'positional' && opts.positionals === false) {
      throw new UsageError(`${spec.name}: takes no FILE arguments, only options: "${t.value}" ${hint}`);
    }
    if (t.kind !== 'option') continue;
    const o = spec.options[t.name] as OptionSpec | undefined;
    const written = args[t.index];
    if (!o) throw new UsageError(`${spec.name}: unknown option ${unknownName(written, t.rawName)}; ${nearest(written, spec)} ${hint}`);
    const shown = t.rawName.startsWith('--') ? t.rawName : `${t.rawName} (--${t.name})`;
    if (o.type === 'boolean' && t.value !== undefined) throw new UsageError(`${spec.name}: ${shown} takes no value ${hint}`);
    if (o.type === 'string' && t.value === undefined) throw new UsageError(`${spec.name}: ${shown} needs a value: ${t.rawName} ${o.value ?? 'VALUE'} ${hint}`);
    if (o.type === 'string' && !t.inlineValue && t.value?.startsWith('-')) {
      // parseArgs refuses it as ambiguous: it may be a forgotten value before another option.
      throw new UsageError(`${spec.name}: ${shown} needs a value, and "${t.value}" looks like an option; a value starting with "-" is written --${t.name}=${t.value} ${hint}`);
    }
  }
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    // Not reached for the cases above; still one line, and never Node's advice.
    throw new UsageError(`${spec.name}: ${(e as Error).message.split('\n')[0]} ${hint}`);
  }
}

/** The option as typed: `-json` is parsed as `-j -s -o -n`, but the user wrote `-json`. */
function unknownName(written: string | undefined, rawName: string): string {
  return written !== undefined && /^-[^-]/.test(written) && written.length > 2 ? written.split('=')[0] : rawName;
}

function nearest(written: string | undefined, spec: CommandSpec): string {
  const typed = (written ?? '').replace(/^-+/, '').split('=')[0].toLowerCase();
  const names = Object.keys(spec.options);
  let best: { name: string; d: number } | undefined;
  for (const name of names) {
    const d = levenshtein(typed, name, Math.max(2, Math.floor(name.length / 2)));
    if (d !== undefined && (!best || d < best.d)) best = { name, d };
  }
  // A prefix (`--max-shard`) or the name with its dashes dropped (`--maxshardsize`) is as good as a typo.
  const prefix = names.find((n) => typed.length >= 3 && (n.startsWith(typed) || n.replace(/-/g, '') === typed.replace(/[-_]/g, '')));
  const pick = prefix ?? best?.name;
  if (pick) return `did you mean --${pick}?`;
  return names.length ? `${spec.name} takes ${names.map((n) => `--${n}`).join(', ')}` : `${spec.name} takes no options`;
}

/** Applies `--python` for every model source this process loads; absent, a workspace `.venv` is looked for. */
export function usePython(python: string | undefined): void {
  if (python === undefined) return;
  if (!python.trim()) throw new UsageError('--python takes the path of a Python interpreter');
  setPythonInterpreter(python, '--python');
}
