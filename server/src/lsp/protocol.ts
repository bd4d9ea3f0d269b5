/**
 * Tensor Port's custom LSP messages, one place for both sides (the client imports this file; it
 * imports only types, erased from the bundle, and three small modules without server dependencies (the
 * file-kind registry with the hub layout it asks, and the read limits), so the client bundle
 * stays free of server code).
 */

/** The file-kind registry, for the client's watchers and pickers (a module without imports: safe to bundle). */
export { CHECKPOINT_DIALOG_EXTENSIONS, CHECKPOINT_EXTENSIONS, CHECKPOINT_GLOBS, SHARD_INDEX_SUFFIX } from '../formats/fileKinds';
import { DEFAULT_READ_LIMITS } from '../formats/readLimits';

/**
 * How the client starts the server process (the tests and benches start it the same way). Measured with
 * both sides of a mapping at 100,000 tensors (docs/benchmarks.md): glibc raises its mmap threshold to the
 * largest block freed, so after the read thread frees a 15 MB header the next large blocks come from
 * heaps it keeps (~45 MiB of RSS held for nothing); a fixed threshold returns them. V8's young
 * generation grows to 32 MiB under the first analysis and stays; 4 MiB semi-spaces cap it at 8. And
 * `gc` is exposed so the server collects the garbage of a large read once it is idle (idleCollect.ts).
 */
export const SERVER_PROCESS = {
  execArgv: ['--max-semi-space-size=4', '--expose-gc'],
  env: { MALLOC_MMAP_THRESHOLD_: '131072' },
} as const;

/** Request: the tensors of one checkpoint, as `tensorport keys --json` prints them. */
export const KEYS_REQUEST = 'tensorport/keys';
/** The client's command that opens a checkpoint (a path, or a remote hf:// or https:// name) in the viewer; a document link's target. */
export const OPEN_CHECKPOINT_COMMAND = 'tensorport.openCheckpoint';
/** Whether a checkpoint name is remote (the client's test; the server parses it properly). */
export const isRemoteName = (name: string): boolean => /^(hf|https?):\/\//i.test(name);
export interface KeysParams { path: string }
export type KeysResult =
  | { ok: true; keys: import('../formats/keysDocument').KeysDocument }
  | { ok: false; message: string; /** The reader's code: `not-a-checkpoint` is said as what the file is, not as a failure. */ code?: string };

/** Request: the model diff of two checkpoints, as unified-diff-like text. */
export const DIFF_REQUEST = 'tensorport/diff';
export interface DiffParams { a: string; b: string }
export type DiffResult = { ok: true; text: string; differs: boolean } | { ok: false; message: string };

/** Request: propose a mapping between two checkpoints and write it as a `.tpmap` (refuses to overwrite unless asked). */
export const GENERATE_MAPPING_REQUEST = 'tensorport/generateMapping';
export interface GenerateMappingParams { source: string; target: string; output: string; overwrite?: boolean }
export type GenerateMappingResult =
  | { ok: true; output: string; rules: number; lowConfidence: number; unmappedSource: number; unmappedTarget: number }
  | { ok: false; message: string };

/**
 * Request: a parity run (parity.md), in a worker (ONNX) or a child process (command mode). Progress
 * and the script's stderr arrive as notifications carrying the run's id; cancelling the request
 * cancels the run. Command mode runs user code: the client only sends it from a trusted workspace.
 */
export const PARITY_REQUEST = 'tensorport/parity';
export type ParityParams =
  | { id: string; kind: 'onnx'; request: import('../parity/types').OnnxParityRequest; /** `NAME=FILE.npy` / `NAME=random:SHAPE`, as the CLI's --input. */ inputSpecs?: string[] }
  | { id: string; kind: 'command'; request: import('../parity/types').CommandParityRequest }
  /** Eager mode (`FILE.py::NAME` models, run in the user's Python): only from a trusted workspace. */
  | { id: string; kind: 'eager'; request: Omit<import('../parity/types').EagerParityRequest, 'inputs' | 'benchRuns'>; inputSpecs?: string[] };
export type ParityReport = import('../parity/types').ParityReport;
export type ParityResult = { ok: true; report: ParityReport } | { ok: false; message: string };
export const PARITY_PROGRESS_NOTIFICATION = 'tensorport/parityProgress';
export interface ParityProgressParams { id: string; phase: string; message: string; done?: number; total?: number }
export const PARITY_LOG_NOTIFICATION = 'tensorport/parityLog';
export interface ParityLogParams { id: string; text: string }

/**
 * Request: the models a parity run in eager mode can build — the top-level classes and functions of
 * the workspace's Python files (a line scan: instant, and a name it misses can still be typed).
 */
export const PYTHON_MODELS_REQUEST = 'tensorport/pythonModels';
export interface PythonModel { file: string; relative: string; name: string; kind: 'class' | 'def'; line: number }
export interface PythonModelsResult { models: PythonModel[] }

/**
 * Request: convert a mapping's source into its target's layout (`tensorport convert`), written as
 * `format`. Progress arrives as notifications carrying the run's id; cancelling the request stops the
 * conversion and writes nothing.
 */
export const CONVERT_REQUEST = 'tensorport/convert';
export interface ConvertParams { id: string; mapping: string; output: string; format: import('../mapping/convert/outputFormat').OutputFormat; force?: boolean }
export type ConvertResult =
  | { ok: true; output: string; tensors: number; bytes: number; unwritten: string[]; warnings: string[]; ms: number; shards?: number }
  | { ok: false; message: string; cancelled?: boolean };
export const CONVERT_PROGRESS_NOTIFICATION = 'tensorport/convertProgress';
export interface ConvertProgressParams { id: string; done: number; total: number; key: string }

/**
 * Request: one agent tool call (server/src/tools/definitions.ts) for the editor's language-model
 * tools: the document `tensorport NAME --json` prints, or one line saying why not. Relative paths are
 * resolved against the first workspace folder. `trusted`: the workspace is (parity's command mode
 * runs user code only then). Cancelling the request stops a conversion or a parity run.
 */
export const TOOL_REQUEST = 'tensorport/tool';
export const TOOL_NAMES = ['keys', 'check', 'map', 'convert', 'parity', 'diff'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];
export interface ToolParams { name: ToolName; input: unknown; trusted: boolean }
export type ToolResult = { ok: true; json: unknown } | { ok: false; message: string };

/** Request: the workspace's checkpoints and mapping files with their status, for the Explorer view. */
export const WORKSPACE_REQUEST = 'tensorport/workspace';
export type WorkspaceEntry = import('../mapping/workspaceSummary').WorkspaceEntry;
export interface WorkspaceResult { entries: WorkspaceEntry[] }

/** Notification from the server: the first workspace scan finished (tests and the client wait on it). */
export const INDEX_READY_NOTIFICATION = 'tensorport/indexReady';
export interface IndexReadyParams { checkpoints: number; unreadable: number; /** Listed, header not read yet (past the eager limit). */ pending: number }

/** Notification from the server: counts for the status bar. */
export const STATUS_NOTIFICATION = 'tensorport/status';
export interface StatusParams {
  /** Files that are checkpoints (or not read yet); `notCheckpoints` are the rest of the checkpoint-named files. */
  checkpoints: number; unreadable: number; notCheckpoints: number; pending: number; openMappings: number;
}

/** Settings the client passes as initializationOptions (package.json `tensorport.index.*`). */
export interface ServerSettings {
  readTimeoutMs: number; exclude: string[]; maxHeaderMB: number; maxMappingMB: number;
  /** Headers read when the workspace opens; checkpoints past this many are read when asked for. */
  eagerLimit: number;
  /**
   * The Python interpreter the user chose (the Python extension's selected one, or `tensorport.python`):
   * model source's imports of installed packages resolve through its environment. Absent: a `.venv` above the file.
   */
  python?: string;
  /**
   * Where large checkpoint headers are kept between sessions (the table cache; VS Code: the extension's
   * global storage, unless `tensorport.index.tableCache` is off). Absent: not kept.
   */
  tableCacheDir?: string;
}

/** Client → server: the chosen interpreter changed (`path` absent: none chosen any more). Open mappings are checked again. */
export const PYTHON_INTERPRETER_NOTIFICATION = 'tensorport/pythonInterpreter';
export interface PythonInterpreterParams { path?: string }
export const DEFAULT_SETTINGS: ServerSettings = {
  readTimeoutMs: DEFAULT_READ_LIMITS.timeoutMs, exclude: [], maxHeaderMB: DEFAULT_READ_LIMITS.maxHeaderBytes / 2 ** 20, maxMappingMB: 20,
  eagerLimit: 1000,
};
