/** `tensorport COMMAND --help`: the command's synopsis, options, an example and its exit codes, from its spec. */
import { CommandSpec } from './commandSpecs';

const WIDTH = 100;

export function commandHelp(spec: CommandSpec): string {
  const out = ['usage:', ...spec.usage.map((u) => wrap(u, 2, 6)), '', ...wrap(spec.summary, 0, 0).split('\n'), '', 'options:'];
  const heads = Object.entries(spec.options).map(([name, o]) => [`${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}${o.multiple ? ' (repeatable)' : ''}`, o.help]);
  heads.push(['-h, --help', 'this text']);
  for (const [head, help] of heads) {
    out.push(`  ${head}`, wrap(help, 6, 6));
  }
  out.push('', `example${spec.examples.length > 1 ? 's' : ''}:`, ...spec.examples.map((e) => `  ${e}`), '', wrap(`exit: ${spec.exit}`, 0, 6), '', 'more: docs/cli.md');
  return out.join('\n') + '\n';
}

/** Word-wraps at WIDTH columns: the first line indented by `first`, the rest by `rest`. */
export function wrap(text: string, first: number, rest: number): string {
  const lines: string[] = [];
  let line = ' '.repeat(first);
  for (const word of text.split(/\s+/)) {
    if (line.trim() && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = ' '.repeat(rest) + word;
    } else {
      line += (line.trim() ? ' ' : '') + word;
    }
  }
  lines.push(line);
  return lines.join('\n');
}
