/**
 * One entry point for every checkpoint kind: picks the reader by name and magic bytes, and guarantees
 * that whatever goes wrong comes back as a ReaderError naming the file — the index, the CLI and the
 * mapping analysis never see any other failure.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ByteSource, readBudget, traced, withSource } from './byteSource';
import { unfinishedDownload, unfinishedDownloadReason } from './hubCache';
import { resolveHubRepo } from './remote/hubRepo';
import { newSession, remoteSession } from './remote/remoteFile';
import { isRemote } from './remote/remoteName';
import { CHECKPOINT_EXTENSIONS, CheckpointKind, ORBAX_METADATA_NAME, SHARD_INDEX_SUFFIX, checkpointKindByName } from './fileKinds';
import { readGguf } from './gguf';
import { readFlaxMsgpack } from './flax/flaxMsgpack';
import { readKerasH5, readKerasZip } from './hdf5/kerasH5';
import { readNpy } from './numpy/npy';
import { readTfCheckpoint } from './tf/tfCheckpoint';
import { readTfjsModel } from './tfjs/modelJson';
import { readNpz } from './numpy/npz';
import { readOnnx } from './onnx/onnxReader';
import { readOrbax } from './orbax/orbaxCheckpoint';
import { readPaddleInference } from './paddleInference';
import { readPaddlePickle } from './paddlePickle';
import { internalError, ReaderError, unreadable } from './readerError';
import { readSafetensors } from './safetensors';
import { readSafetensorsIndex } from './safetensorsIndex';
import { readTorchLegacy } from './torchLegacy';
import { readTorchZip } from './torchZip';
import { CheckpointInfo } from './tensorInfo';
import { withFields } from './tensorTable';


export interface ReadOptions {
  /** Shown in errors and results; defaults to the path. */
  displayName?: string;
  /** A read slower than this fails with a clear reason instead of holding up the index. */
  timeoutMs?: number;
  /** A read that would pull in more bytes than this fails instead (headers only are read: this bounds memory). */
  maxHeaderBytes?: number;
  /** Read as this kind whatever the file's name (a sharded index's shards are safetensors by definition). */
  kind?: CheckpointKind;
  /** Record what the reader looked at as `info.identity` (the index's cache wants it; a one-shot CLI read does not). */
  identity?: boolean;
  /**
   * Fill columns rather than objects where the reader can (safetensors): tableOf(info) gives them, and
   * `info.tensors` is made only when read. For a caller that writes straight from the columns (`keys`).
   */
  table?: boolean;
}

/**
 * A remote read waits on the network: it gets at least this long whatever the local limit is (each
 * request also has its own idle timeout, and retries are bounded).
 */
const REMOTE_TIMEOUT_MS = 120_000;

export async function readCheckpoint(file: string, opts: ReadOptions = {}): Promise<CheckpointInfo> {
  if (isRemote(file)) return readRemote(file, opts);
  return readLocal(file, opts);
}

/** A remote checkpoint: the same readers over HTTP, in one session that pins the commit and counts the cost. */
async function readRemote(name: string, opts: ReadOptions): Promise<CheckpointInfo> {
  const display = opts.displayName ?? name;
  const session = newSession();
  const timeoutMs = opts.timeoutMs === undefined ? undefined : Math.max(opts.timeoutMs, REMOTE_TIMEOUT_MS);
  return remoteSession.run(session, async () => {
    const picked = await withTimeout(resolveHubRepo(name, display).catch((e: unknown) => {
      if (e instanceof ReaderError) throw e;
      throw internalError(display, 'the remote name', e);
    }), display, timeoutMs);
    const info = await readLocal(picked.file, { ...opts, displayName: display, timeoutMs });
    const first = session.first;
    return withFields(info, {
      notes: picked.note ? [picked.note, ...info.notes] : info.notes,
      ...(first ? { remote: { url: first.url, ...(first.commit ? { commit: first.commit } : {}), requests: session.requests, bytes: session.bytes } } : {}),
    });
  });
}

async function readLocal(file: string, opts: ReadOptions): Promise<CheckpointInfo> {
  const display = opts.displayName ?? file;
  const read = async () => {
    if (!opts.identity) return dispatch(file, display, opts);
    const { result, identity } = await traced(file, () => dispatch(file, display, opts));
    return identity ? withFields(result, { identity }) : result;
  };
  const started = opts.maxHeaderBytes ? readBudget.run({ limit: opts.maxHeaderBytes, used: 0 }, read) : read();
  const work = started.catch((e: unknown) => {
    if (e instanceof ReaderError) throw e;
    // A reader bug must still reach the user as a reason about this file, never as a crash.
    throw internalError(display, 'the file', e);
  });
  return withTimeout(work, display, opts.timeoutMs);
}

async function withTimeout<T>(work: Promise<T>, display: string, timeoutMs: number | undefined): Promise<T> {
  if (!timeoutMs) return work;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unreadable(display, `reading the header took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function dispatch(file: string, display: string, opts: ReadOptions): Promise<CheckpointInfo> {
  try {
    return await dispatchByKind(file, display, opts);
  } catch (e) {
    // Only a read that failed asks whether the file is an LFS pointer: a listing costs no extra I/O.
    if (e instanceof ReaderError && e.code === 'unreadable-checkpoint') {
      const pointer = await lfsPointer(file, display).catch(() => undefined);
      if (pointer) throw pointer;
    }
    throw e;
  }
}

async function dispatchByKind(file: string, display: string, opts: ReadOptions): Promise<CheckpointInfo> {
  const byName = opts.kind ?? checkpointKindByName(kindName(file));
  if (byName === 'safetensors-index') return readSafetensorsIndex(file, display);
  if (byName === 'paddle-inference') return readPaddleInference(file, display);
  if (byName === 'orbax' || (!byName && await orbaxFolder(file, display))) return readOrbax(file, display);
  if (byName === 'unfinished-download') {
    const size = await withSource(file, display, async (src) => src.size);
    throw new ReaderError('not-a-checkpoint', display, unfinishedDownloadReason(unfinishedDownload(file) ?? {}, formatSize(size)));
  }
  const kind = byName ?? await sniff(file, display);
  switch (kind) {
    case 'safetensors': return withSource(file, display, (src) => readSafetensors(src, { table: opts.table }));
    case 'onnx': return readOnnx(file, display);
    case 'gguf': return withSource(file, display, readGguf);
    case 'npy': return withSource(file, display, readNpy);
    case 'npz': return readNpz(file, display);
    case 'flax-msgpack': return withSource(file, display, readFlaxMsgpack);
    case 'tf-checkpoint': return withSource(file, display, readTfCheckpoint);
    case 'keras-h5': return withSource(file, display, readKerasH5);
    case 'keras': return readKerasZip(file, display);
    case 'tfjs': return readTfjsModel(file, display);
    case 'paddle': return withSource(file, display, readPaddlePickle);
    case 'torch': {
      const magic = await withSource(file, display, (src) => head(src, 4));
      if (magic.length === 0) throw unreadable(display, 'file is empty');
      if (magic.length >= 4 && magic.readUInt32LE(0) === 0x04034b50) return readTorchZip(file, display);
      if (magic[0] === 0x80) return withSource(file, display, readTorchLegacy);
      throw unreadable(display, 'neither a torch.save zip archive nor a pickle (unexpected first bytes)');
    }
    default:
      throw unreadable(display, `unknown checkpoint kind (expected ${[...Object.keys(CHECKPOINT_EXTENSIONS), SHARD_INDEX_SUFFIX, 'a TF.js model.json'].join(', ')})`);
  }
}

/** The part of a name that says its kind: a URL's path (`…/model.safetensors?download=1` is safetensors). */
function kindName(file: string): string {
  if (!isRemote(file) || file.startsWith('hf://')) return file;
  try { return decodeURIComponent(new URL(file).pathname); } catch { return file; }
}

/** A local folder is a checkpoint only as an Orbax one (`_METADATA` in it); any other folder is refused here. */
async function orbaxFolder(file: string, display: string): Promise<boolean> {
  if (isRemote(file)) return false;
  const st = await fs.stat(file).catch(() => undefined);
  if (!st?.isDirectory()) return false;
  if (await fs.stat(join(file, ORBAX_METADATA_NAME)).then((m) => m.isFile(), () => false)) return true;
  throw unreadable(display, `is a folder with no ${ORBAX_METADATA_NAME} in it: not an Orbax checkpoint (name a checkpoint file, or an Orbax checkpoint folder)`);
}

/** Files with an unfamiliar name are recognised by their first bytes where the format has a magic number. */
async function sniff(file: string, display: string): Promise<CheckpointKind | undefined> {
  const magic = await withSource(file, display, (src) => head(src, 8));
  // A `.json` is many things (config.json, tokenizer.json): only the reader, seeing `weightsManifest`, says it is TF.js's.
  if (/\.json$/i.test(kindName(file)) && /^\s*(?:[[{]|$)/.test(magic.toString('latin1'))) return 'tfjs';
  if (magic.length >= 4 && magic.toString('latin1', 0, 4) === 'GGUF') return 'gguf';
  if (magic.length >= 4 && magic.readUInt32LE(0) === 0x04034b50) return 'torch';
  if (magic.length >= 8 && magic.readBigUInt64LE(0) < 100_000_000n && magic.length >= 8) {
    const brace = await withSource(file, display, (src) => (src.size > 8 ? src.read(8, 1) : Promise.resolve(Buffer.alloc(0))));
    if (brace.toString('latin1') === '{') return 'safetensors';
  }
  return undefined;
}

async function head(src: ByteSource, n: number): Promise<Buffer> {
  return src.read(0, Math.min(n, src.size), 'file start');
}

/** Git LFS pointers are small text files; any checkpoint is larger than this. */
const LFS_POINTER_MAX = 1024;

/**
 * A clone without Git LFS leaves each large file as a pointer (`version https://git-lfs…`, `oid sha256:…`,
 * `size N`): said as what it is, with the object's size and what to run, instead of a format error
 * about a header length made of ASCII.
 */
async function lfsPointer(file: string, display: string): Promise<ReaderError | undefined> {
  const start = await withSource(file, display, (src) => (src.size <= LFS_POINTER_MAX ? src.read(0, src.size, 'file start') : Promise.resolve(undefined)));
  if (!start) return undefined;
  const text = start.toString('latin1');
  if (!text.startsWith('version https://git-lfs.github.com/spec/')) return undefined;
  const size = /^size (\d+)$/m.exec(text)?.[1];
  const oid = /^oid sha256:([0-9a-f]{64})$/m.exec(text)?.[1];
  const what = size ? `a ${formatSize(Number(size))} object${oid ? ` (sha256 ${oid.slice(0, 12)}…)` : ''}` : 'an object';
  return new ReaderError('not-a-checkpoint', display, `a Git LFS pointer to ${what}, not the checkpoint itself: the repository was cloned without Git LFS; run \`git lfs pull\``);
}

function formatSize(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n, i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return i ? `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}` : `${n} B`;
}

