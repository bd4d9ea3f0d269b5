/**
 * The one registry of the files Tensor Port knows by name: checkpoints (and which reader each
 * extension means), mapping files, and Python/TypeScript sources (model source or conversion scripts,
 * told apart by their content). The readers, the workspace scan, the server's file watchers and the
 * client's pickers all derive from it; package.json repeats it for VS Code and a test keeps the two equal.
 * Imports only the import-free hub layout module: the client bundles it through the protocol module.
 */
import { unfinishedDownload } from './hubCache';

export type CheckpointKind = 'safetensors' | 'safetensors-index' | 'torch' | 'paddle' | 'paddle-inference' | 'onnx' | 'gguf'
  | 'npy' | 'npz' | 'flax-msgpack' | 'tf-checkpoint' | 'keras-h5' | 'keras'
  /** TF.js `model.json`: a `.json` named explicitly, recognised by its content (readCheckpoint.ts), never by name. */
  | 'tfjs'
  /** An Orbax checkpoint: named by its folder or the `_METADATA` in it (readCheckpoint.ts). */
  | 'orbax'
  /** A Hugging Face download still in progress (or broken off): listed, so the user hears it is not there yet. */
  | 'unfinished-download';

/** Checkpoint extensions (lower case, with the dot) → the reader that reads them. */
// No prototype (see table.ts, not imported: this module has no imports): `.constructor` is no extension.
export const CHECKPOINT_EXTENSIONS: Readonly<Record<string, CheckpointKind>> = Object.freeze(Object.assign(Object.create(null) as Record<string, CheckpointKind>, {
  '.safetensors': 'safetensors',
  '.bin': 'torch', '.pt': 'torch', '.pth': 'torch', '.ckpt': 'torch',
  '.pdparams': 'paddle',
  '.pdiparams': 'paddle-inference',
  '.onnx': 'onnx',
  '.gguf': 'gguf',
  '.npy': 'npy', '.npz': 'npz',
  '.msgpack': 'flax-msgpack',
  // A TF checkpoint is named by its `.index` (the `.data-NNNNN-of-NNNNN` shards hold the bytes).
  '.index': 'tf-checkpoint',
  '.h5': 'keras-h5', '.keras': 'keras',
}));

/** The file that makes a folder an Orbax checkpoint (orbax.checkpoint's tree metadata). */
export const ORBAX_METADATA_NAME = '_METADATA';

/** A sharded safetensors checkpoint is named by its index. */
export const SHARD_INDEX_SUFFIX = '.safetensors.index.json';
export const MAPPING_EXTENSION = '.tpmap';

export type FileKind = 'checkpoint' | 'mapping' | 'source';

/** What a file is by its name alone (a `.bin` may still turn out not to be a checkpoint: see findCheckpoints). */
export function fileKindByName(file: string): FileKind | undefined {
  const name = baseName(file).toLowerCase();
  if (checkpointKindByName(name)) return 'checkpoint';
  if (name.endsWith(MAPPING_EXTENSION)) return 'mapping';
  if (isSourceName(name)) return 'source';
  return undefined;
}

export function checkpointKindByName(file: string): CheckpointKind | undefined {
  if (unfinishedDownload(file)) return 'unfinished-download';
  const name = baseName(file).toLowerCase();
  if (name.endsWith(SHARD_INDEX_SUFFIX)) return 'safetensors-index';
  if (baseName(file) === ORBAX_METADATA_NAME) return 'orbax';
  const dot = name.lastIndexOf('.');
  return dot < 0 ? undefined : CHECKPOINT_EXTENSIONS[name.slice(dot)];
}

export function isCheckpointPath(file: string): boolean {
  return checkpointKindByName(file) !== undefined;
}

/** Python (`.py`, `.pyi`) and TypeScript (not `.d.ts`) files: model source or a conversion script. */
export function isSourceName(file: string): boolean {
  const name = baseName(file).toLowerCase();
  return /\.(py|pyi|ts)$/.test(name) && !name.endsWith('.d.ts');
}

/** Glob patterns for file watchers: every checkpoint extension, shard indexes, and partial hub downloads. */
export const CHECKPOINT_GLOBS: readonly string[] = [
  `**/*.{${Object.keys(CHECKPOINT_EXTENSIONS).map((e) => e.slice(1)).join(',')}}`,
  `**/*${SHARD_INDEX_SUFFIX}`,
  '**/*.incomplete',
];

/** Extensions (no dot) for file-open dialogs that pick a checkpoint (`json` for a shard index). */
export const CHECKPOINT_DIALOG_EXTENSIONS: readonly string[] = [...Object.keys(CHECKPOINT_EXTENSIONS).map((e) => e.slice(1)), 'json'];

function baseName(file: string): string {
  return file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
}
