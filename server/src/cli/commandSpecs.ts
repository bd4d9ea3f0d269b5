/**
 * Every command's options, synopsis and example, in one table: the commands parse their arguments with
 * it (parseCommandArgs), `tensorport COMMAND --help` prints it, a misspelled option is matched against
 * it, and test/unit/docs.test.ts holds docs/cli.md to it. Data only: main.ts reads it without loading
 * any command's code.
 */

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: boolean;
  /** The value's placeholder in help (`PATH`); string options only. */
  value?: string;
  help: string;
}

export interface CommandSpec {
  name: string;
  /** Synopsis lines, each starting with `tensorport NAME`. */
  usage: readonly string[];
  summary: string;
  options: Readonly<Record<string, OptionSpec>>;
  /** Commands to copy, run from a checkout's root; each works on the files the repository ships. */
  examples: readonly string[];
  exit: string;
}

const json = { type: 'boolean', default: false, help: 'print the JSON document (docs/cli.md) instead of text for people' } as const;
const python = {
  type: 'string', value: 'PATH',
  help: 'the Python interpreter whose installed packages model source reads layers from (read, never imported); default: a .venv or venv above the model file',
} as const;
const force = { type: 'boolean', default: false, help: 'replace an existing output file' } as const;

export const KEYS = {
  name: 'keys',
  usage: ['tensorport keys FILE [--json]', 'tensorport keys FILE.py::Class [--config config.json] [--key-space module|checkpoint] [--python PATH] [--json]'],
  summary: "Lists a checkpoint's tensors (key, dtype, shape, size) from its header, or the tensors a model class's state_dict() will have, inferred from its source (never run).",
  options: {
    json,
    config: { type: 'string', value: 'FILE', help: 'model source only: build the model with this config.json (default: a config.json beside the file, else the config class\'s defaults)' },
    'key-space': { type: 'string', value: 'module|checkpoint', help: 'model source only: list the module\'s keys (default) or the keys save_pretrained writes (transformers ≥ 5)' },
    python,
  },
  examples: ['tensorport keys examples/vit-tiny.safetensors', 'tensorport keys examples/vit-to-paddle/paddle_vit.py::VisionTransformer'],
  exit: '0 listed; 2 bad usage, or a file that is missing, unreadable, corrupt or unsafe (one line on stderr)',
} as const satisfies CommandSpec;

export const CHECK = {
  name: 'check',
  usage: ['tensorport check FILE… [--fix] [--max-mapping-mb N] [--python PATH] [--json]'],
  summary: 'Checks mapping files (.tpmap) against their checkpoints and model source, model source (.py, .ts) for the fp16 mask lint, and conversion scripts with a `# tensorport:` comment — the diagnostics the editor shows.',
  options: {
    json,
    fix: { type: 'boolean', default: false, help: 'apply the fixes the layout conventions dictate (transposes, permutes) and write each file once; a fix that would raise the number of errors is refused' },
    'max-mapping-mb': { type: 'string', value: 'N', help: 'mapping files larger than N MiB get one diagnostic instead of an analysis (default 20)' },
    python,
  },
  examples: ['tensorport check examples/vit-to-paddle/port.tpmap'],
  exit: '0 no errors (warnings allowed); 1 at least one error; 2 bad usage or an unreadable file',
} as const satisfies CommandSpec;

export const DIFF = {
  name: 'diff',
  usage: ['tensorport diff A B [--json]'],
  summary: "Compares two checkpoints by key: tensors only in one, and tensors whose dtype or shape changed (a transposed shape says so). Reads headers only.",
  options: { json },
  examples: ['tensorport diff media/example/vit_hf.safetensors examples/vit-tiny.safetensors'],
  exit: '0 the same keys, dtypes and shapes; 1 they differ (like diff(1)); 2 bad usage or an unreadable file',
} as const satisfies CommandSpec;

export const MAP = {
  name: 'map',
  usage: ['tensorport map SOURCE TARGET [-o OUT.tpmap] [--force] [--python PATH] [--json]'],
  summary: 'Proposes a complete mapping between two checkpoints or model sources (FILE.py::Class): one rule per target tensor with its transforms, folded into {i} rules, plus the set lines a model class needs. Without -o the .tpmap goes to stdout.',
  options: {
    output: { type: 'string', short: 'o', value: 'OUT.tpmap', help: 'write the mapping here (atomically; never over an existing file without --force) and print a summary' },
    force,
    json,
    python,
  },
  examples: ['tensorport map examples/vit-tiny.safetensors examples/vit-to-paddle/paddle_vit.py::VisionTransformer'],
  exit: '0 proposed; 2 bad usage, an unreadable side, or -o naming an existing file without --force',
} as const satisfies CommandSpec;

export const CONVERT = {
  name: 'convert',
  usage: ['tensorport convert MAPPING.tpmap -o OUT.{safetensors,pdparams,pt,bin,gguf,json} [--format safetensors|paddle|torch|gguf|tfjs] [--max-shard-size 5GB] [--protocol 2|3|4] [--metadata-from FILE.gguf|config.json] [--quantize q8_0] [--force] [--python PATH] [--json]'],
  summary: "Applies a mapping to its source checkpoint and writes the target checkpoint, streamed tensor by tensor and published atomically. Refuses a mapping with errors.",
  options: {
    output: { type: 'string', short: 'o', value: 'OUT', help: 'the checkpoint to write; its extension picks the format' },
    format: { type: 'string', value: 'safetensors|paddle|torch|gguf|tfjs', help: 'the format, when OUT\'s extension does not say it' },
    'max-shard-size': { type: 'string', value: 'SIZE', help: '.safetensors: shards of at most SIZE (5GB = 10^9 bytes; MiB/GiB are binary) and an index, as save_pretrained writes them; TF.js: the shard size (default 4 MiB)' },
    protocol: { type: 'string', value: '2|3|4', help: '.pdparams only: paddle.save\'s pickle protocol (default 4)' },
    'metadata-from': { type: 'string', value: 'FILE', help: '.gguf only: a GGUF whose metadata to carry over, or a config.json to build the architecture keys from' },
    quantize: { type: 'string', value: 'q8_0', help: '.gguf only: write float matrices as Q8_0; vectors stay float' },
    force,
    json,
    python,
  },
  examples: ['tensorport convert examples/vit-to-paddle/port.tpmap -o vit_paddle.pdparams'],
  exit: '0 written; 1 the mapping has errors (listed, nothing written); 2 bad usage, an unreadable input or an I/O error; 130 interrupted (nothing written)',
} as const satisfies CommandSpec;

export const PARITY = {
  name: 'parity',
  usage: [
    'tensorport parity --reference REF.onnx --candidate CAND.onnx [--weights MAP.tpmap] [--input NAME=FILE.npy|NAME=random:SHAPE]… [--seed N] [--atol A] [--rtol R] [--dtype fp32|fp16|bf16] [--device auto|cpu|cuda] [--layers] [--json]',
    'tensorport parity --reference REF.py::NAME --candidate CAND.py::NAME [--weights MAP.tpmap] [--reference-weights FILE] [--candidate-weights FILE] [--input …]… [--seed N] [--atol A] [--rtol R] [--dtype …] [--device …] [--backward] [--python PATH] [--launcher "torchrun --nproc-per-node N"] [--timeout SECONDS] [--save-tensors MODULE[,MODULE…] [--save-dir DIR]] [--json]',
    'tensorport parity --command "CMD" [--cwd DIR] [--timeout SECONDS] [--atol A] [--rtol R] [--dtype …] [--json]',
  ],
  summary: 'Runs the reference and the candidate on the same inputs and compares every output (and, with --layers or in eager mode, every layer or module), naming the first that diverges and the mapping lines behind it. Three modes: ONNX models, eager (your own PyTorch/Paddle models in your Python), command (your own script).',
  options: {
    reference: { type: 'string', value: 'REF', help: 'the reference model: an .onnx file, or FILE.py::NAME (eager mode)' },
    candidate: { type: 'string', value: 'CAND', help: 'the candidate model (the port): an .onnx file, or FILE.py::NAME (eager mode)' },
    weights: { type: 'string', value: 'MAP.tpmap', help: 'a mapping whose source tensors become the candidate\'s weights (eager mode: the reference loads the source, the candidate the targets)' },
    input: { type: 'string', multiple: true, value: 'NAME=FILE.npy|NAME=random:SHAPE', help: 'an input (repeatable); inputs not given are generated from the graph, or by example_inputs() in eager mode' },
    seed: { type: 'string', value: 'N', help: 'the seed of generated inputs (default 0)' },
    atol: { type: 'string', value: 'A', help: 'absolute tolerance (default by dtype, as torch.testing.assert_close)' },
    rtol: { type: 'string', value: 'R', help: 'relative tolerance (default by dtype)' },
    dtype: { type: 'string', value: 'fp32|fp16|bf16', help: 'precision of the candidate run (default fp32)' },
    device: { type: 'string', value: 'auto|cpu|cuda', help: 'auto uses CUDA where it is installed and a GPU answers (default auto)' },
    layers: { type: 'boolean', default: false, help: 'ONNX mode: compare intermediate values too and name the first diverging layer' },
    backward: { type: 'boolean', default: false, help: 'eager mode: compare every parameter\'s gradient of the same loss too' },
    'reference-weights': { type: 'string', value: 'FILE', help: 'eager mode: a checkpoint (or save_pretrained folder) the reference loads instead of the mapping\'s source' },
    'candidate-weights': { type: 'string', value: 'FILE', help: 'eager mode: a checkpoint the candidate loads as it is, such as a file convert wrote' },
    python: { type: 'string', value: 'PATH', help: 'eager mode: the Python interpreter that runs your models (default python3)' },
    launcher: { type: 'string', value: 'CMD', help: 'eager mode: run under a launcher, e.g. "torchrun --nproc-per-node 2" (every rank runs, rank 0 reports)' },
    'save-tensors': { type: 'string', multiple: true, value: 'MODULE[,MODULE…]', help: 'eager mode: also write these reference modules\' outputs (NAME: every call, NAME#K: the K-th) and their candidate partners\' in full as .npy files' },
    'save-dir': { type: 'string', value: 'DIR', help: 'the folder for --save-tensors (default ./tensorport-parity-tensors)' },
    command: { type: 'string', value: 'CMD', help: 'command mode: run your own comparison script, which prints the JSON-lines protocol (docs/parity.md)' },
    cwd: { type: 'string', value: 'DIR', help: 'command mode: the folder to run it in' },
    timeout: { type: 'string', value: 'SECONDS', help: 'command and eager mode: stop the run after this long' },
    json,
  },
  examples: ['tensorport parity --reference ref.onnx --candidate port.onnx --weights port.tpmap --layers', 'tensorport parity --reference hf_vit.py::build --candidate paddle_vit.py::build --weights port.tpmap --python .venv/bin/python'],
  exit: '0 every output within tolerance; 1 one is not; 2 bad usage, or the check cannot run (one line on stderr)',
} as const satisfies CommandSpec;

export const MCP = {
  name: 'mcp',
  usage: ['tensorport mcp [--allow DIR]… [--allow-commands] [--python PATH]'],
  summary: 'Serves keys, check, map, convert, parity and diff to coding agents as Model Context Protocol tools over stdio, in the folder it starts in. Reads and writes only inside its roots.',
  options: {
    allow: { type: 'string', multiple: true, value: 'DIR', help: 'another folder the server may read and write (repeatable)' },
    'allow-commands': { type: 'boolean', default: false, help: 'let parity run your own script (command mode) and your models (eager mode)' },
    python,
  },
  examples: ['tensorport mcp --allow ../checkpoints'],
  exit: '0 when the client closes stdin; 2 bad usage (a missing --allow folder)',
} as const satisfies CommandSpec;

export const COMMANDS: Readonly<Record<string, CommandSpec>> = { keys: KEYS, check: CHECK, diff: DIFF, map: MAP, convert: CONVERT, parity: PARITY, mcp: MCP };
