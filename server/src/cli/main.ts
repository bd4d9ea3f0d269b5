/**
 * `tensorport`: the command line over the same core as the language server (../shared/spec/cli.md).
 * Exit codes: 0 success, 1 the check found errors, 2 bad usage or an unreadable input — always with a
 * one-line reason on stderr and never a stack trace.
 */
import { runCheck } from './checkCommand';
import { runConvert } from './convertCommand';
import { runDiff } from './diffCommand';
import { runKeys } from './keysCommand';
import { runMap } from './mapCommand';
import { runParity } from './parityCommand';
import { EXIT, UsageError, die } from './exit';

const USAGE = `usage: tensorport <command> [options]

commands:
  keys FILE [--json]        list a checkpoint's tensors (key, dtype, shape) without reading tensor data
  check FILE.tpmap… [--json] check mapping files against their checkpoints (exit 1 on errors)
  diff A B [--json]          compare two checkpoints' keys, dtypes and shapes (exit 1 when they differ)
  map SOURCE TARGET [-o OUT.tpmap] [--force] [--json]
                             propose a complete mapping between two checkpoints
  convert MAPPING.tpmap -o OUT.safetensors [--json]
                             apply a mapping and write the target checkpoint (streamed, atomic)
  parity --reference REF.onnx --candidate CAND.onnx [--weights MAP.tpmap] [--layers] … | --command "CMD"
                             forward parity check (exit 1 on a mismatch)

FILE may be .safetensors, *.safetensors.index.json, .bin/.pt/.pth (torch.save, zip or legacy),
.pdparams (Paddle), .onnx or .gguf.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'keys': return runKeys(rest);
    case 'check': return runCheck(rest);
    case 'diff': return runDiff(rest);
    case 'map': return runMap(rest);
    case 'convert': return runConvert(rest);
    case 'parity': return runParity(rest);
    case undefined: case '-h': case '--help': case 'help':
      process.stdout.write(USAGE + '\n');
      return command === undefined ? EXIT.usage : EXIT.ok;
    default:
      throw new UsageError(`unknown command "${command}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => die(e),
);
