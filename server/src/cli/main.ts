/**
 * `tensorport`: the command line over the same core as the language server (docs/cli.md).
 * Exit codes: 0 success, 1 the check found errors, 2 bad usage or an unreadable input — always with a
 * one-line reason on stderr and never a stack trace.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { levenshtein } from '../mapping/suggest';
import { asksForHelp } from './args';
import { COMMANDS } from './commandSpecs';
import { EXIT, UsageError, die } from './exit';
import { commandHelp, wrap } from './help';
import pkg from '../../../package.json';

const USAGE = `usage: tensorport <command> [options]        (tensorport <command> --help: its options and an example)

commands:
${Object.values(COMMANDS).map((c) => `  ${c.name.padEnd(9)}${wrap(firstSentence(c.summary), 11, 11).trimStart()}`).join('\n')}

FILE may be .safetensors, *.safetensors.index.json, .bin/.pt/.pth (torch.save, zip or legacy),
.pdparams (Paddle), .pdiparams (a Paddle inference model, named by the .json/.pdmodel beside it),
.onnx, .gguf, .npz/.npy (NumPy, big_vision, MLX), .msgpack (Flax), a TensorFlow checkpoint's
PREFIX.index, .weights.h5/.keras (Keras 3), an Orbax checkpoint folder, a TF.js model.json — or model
source, FILE.py::Class or a TF.js model FILE.ts::buildModel.
A checkpoint may also be remote, read header-only: hf://OWNER/REPO[@REVISION][/PATH] or an https:// URL;
--offline (or HF_HUB_OFFLINE=1) answers from the header cache only.
The reference: docs/cli.md (every option, exit code and JSON document) and docs/mapping-language.md.`;

function firstSentence(text: string): string {
  const m = /^.*?\.(?=\s|$)/.exec(text);
  return m ? m[0] : text;
}

async function main(args: string[]): Promise<number> {
  // `--offline` is global (every command that reads a checkpoint may read a remote one): taken out here.
  const end = args.includes('--') ? args.indexOf('--') : args.length;
  const argv = args.filter((a, i) => i >= end || a !== '--offline');
  if (argv.length < args.length) (await import('../formats/remote/hubSettings')).setOffline(true);
  const [command, ...rest] = argv;
  const spec = command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (spec && asksForHelp(rest, spec)) {
    process.stdout.write(commandHelp(spec));
    return EXIT.ok;
  }
  switch (command) {
    // Each command loads only its own modules: start-up is part of every CI call of `tensorport`.
    case 'keys': return (await import('./keysCommand')).runKeys(rest);
    case 'check': return (await import('./checkCommand')).runCheck(rest);
    case 'diff': return (await import('./diffCommand')).runDiff(rest);
    case 'map': return (await import('./mapCommand')).runMap(rest);
    case 'convert': return (await import('./convertCommand')).runConvert(rest);
    case 'parity': return (await import('./parityCommand')).runParity(rest);
    // Its own bundle (dist/mcp.js: the MCP SDK and zod), so the other commands never parse it.
    case 'mcp': return (createRequire(__filename)(path.join(__dirname, 'mcp.js')) as typeof import('./mcpCommand')).runMcp(rest);
    case '-V': case '--version': case 'version':
      process.stdout.write(`tensorport ${pkg.version}\n`);
      return EXIT.ok;
    case undefined: case '-h': case '--help': case 'help':
      process.stdout.write(USAGE + '\n');
      return command === undefined ? EXIT.usage : EXIT.ok;
    default:
      throw new UsageError(`unknown command "${command}"${nearestCommand(command)} (the commands: ${Object.keys(COMMANDS).join(', ')}; tensorport --help)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => die(e),
);

function nearestCommand(typed: string): string {
  const close = Object.keys(COMMANDS).find((c) => levenshtein(typed.toLowerCase(), c, 2) !== undefined);
  return close ? `; did you mean ${close}?` : '';
}
