/**
 * `tensorport`: the command line over the same core as the language server (../shared/spec/cli.md).
 * Exit codes: 0 success, 1 the check found errors, 2 bad usage or an unreadable input — always with a
 * one-line reason on stderr and never a stack trace.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { EXIT, UsageError, die } from './exit';
import pkg from '../../../package.json';

const USAGE = `usage: tensorport <command> [options]

commands:
  keys FILE [--json]        list a checkpoint's tensors (key, dtype, shape) without reading tensor data
  keys FILE.py::Class [--config config.json] [--json]
                             the tensors model source will have (inferred, never run)
  check FILE.tpmap… [--json] [--fix]
                             check mapping files against their checkpoints (exit 1 on errors);
                             --fix applies the fixes the layout conventions dictate
  diff A B [--json]          compare two checkpoints' keys, dtypes and shapes (exit 1 when they differ)
  map SOURCE TARGET [-o OUT.tpmap] [--force] [--json]
                             propose a complete mapping between two checkpoints
  convert MAPPING.tpmap -o OUT.{safetensors,pdparams,pt,gguf} [--max-shard-size 5GB] [--force] [--json]
                             apply a mapping and write the target checkpoint (streamed, atomic)
  parity --reference REF.onnx --candidate CAND.onnx [--weights MAP.tpmap] [--layers] … | --command "CMD"
                             forward parity check (exit 1 on a mismatch)
  mcp [--allow-commands]     serve these operations to coding agents (Model Context Protocol over stdio);
                             --allow-commands lets parity run your own script (command mode)

keys, check, map, convert and mcp take --python PATH: the interpreter whose installed packages a model
source's imports (torch.nn.TransformerEncoder, timm, paddle.vision…) are read from; without it, a .venv
or venv above the model file.

FILE may be .safetensors, *.safetensors.index.json, .bin/.pt/.pth (torch.save, zip or legacy),
.pdparams (Paddle), .pdiparams (a Paddle inference model, named by the .json/.pdmodel beside it),
.onnx or .gguf.

A checkpoint may also be remote, read header-only: hf://OWNER/REPO[@REVISION][/PATH] or an https:// URL;
--offline (or HF_HUB_OFFLINE=1) answers from the header cache only.`;

async function main(args: string[]): Promise<number> {
  // `--offline` is global (every command that reads a checkpoint may read a remote one): taken out here.
  const end = args.includes('--') ? args.indexOf('--') : args.length;
  const argv = args.filter((a, i) => i >= end || a !== '--offline');
  if (argv.length < args.length) (await import('../formats/remote/hubSettings')).setOffline(true);
  const [command, ...rest] = argv;
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
      throw new UsageError(`unknown command "${command}"`, USAGE);
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => die(e),
);
