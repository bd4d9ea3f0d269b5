/**
 * Reads a `torch.save` zip checkpoint (PyTorch ≥ 1.6) without loading tensor data: the central
 * directory, then only `<top>/data.pkl`, interpreted by the safe pickle VM. Storages stay in their
 * `data/<key>` entries; each tensor gets the byte range of its view inside that entry.
 */
import { resolve as resolvePath } from 'node:path';
import yauzl from 'yauzl';
import { Readable } from 'node:stream';
import { ByteSource } from './byteSource';
import { absoluteName } from './remote/remoteName';
import { BufferSource, type RandomAccess } from './pickle/cursor';
import { flattenTensors } from './pickle/flatten';
import { stateContent } from './pickle/stateKinds';
import { type StorageBytes, classifyTorch, storageFromPid, tensorInfo } from './pickle/torchTensors';
import { runPickle } from './pickle/vm';
import { internalError, ReaderError, unreadable } from './readerError';
import { dataStarts } from './zipDataStarts';
import { type CheckpointInfo, DTYPE_SIZE, type TensorInfo } from './tensorInfo';

const MAX_ENTRIES = 1_000_000;
/** Bytes a metadata read pulls in at first, and at most (see SourceReader.read). */
const WINDOW = 4096;
const MAX_WINDOW = 1 << 20;
/**
 * A deflated data.pkl (torch.save stores it, never deflates it) has to be inflated into memory; beyond
 * this it is refused rather than risked. A stored one of any size is read through a window.
 */
const MAX_INFLATED_PICKLE = 64 * 1024 * 1024;
/** A zip local file header before its name and extra field (APPNOTE 4.3.7). */
const LOCAL_HEADER_BYTES = 30;

export async function readTorchZip(path: string, displayName: string): Promise<CheckpointInfo> {
  return withZip(path, displayName, 'the torch zip checkpoint', (src, zip) => readOpened(absoluteName(src.path, resolvePath), displayName, src, zip));
}

/**
 * A zip-based checkpoint read from start to end (torch zips, `.npz`, `.keras`): the file and its central
 * directory opened, `read` run over them, anything but a ReaderError reported as an internal error about
 * `what`, and both closed whatever happens.
 */
export async function withZip<T>(path: string, displayName: string, what: string, read: (src: ByteSource, zip: yauzl.ZipFile) => Promise<T>): Promise<T> {
  let src: ByteSource | undefined;
  let zip: yauzl.ZipFile | undefined;
  try {
    src = await ByteSource.open(path, displayName);
    zip = await openZip(src, displayName);
    return await read(src, zip);
  } catch (e) {
    if (e instanceof ReaderError) throw e;
    throw internalError(displayName, what, e);
  } finally {
    zip?.close();
    await src?.close().catch(() => undefined);
  }
}

async function readOpened(absPath: string, name: string, src: ByteSource, zip: yauzl.ZipFile): Promise<CheckpointInfo> {
  const entries = await listEntries(zip, name);
  const notes: string[] = [];
  const pkls = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n) || n === 'data.pkl');
  if (pkls.length === 0) throw unreadable(name, 'zip archive has no data.pkl: not a torch.save checkpoint');
  // torch.save writes one folder holding everything; an archive that offers two (two data.pkl) would
  // list one and hide the other: torch refuses it, and so do we.
  const tops = new Set([...entries.keys()].map((n) => (n.includes('/') ? n.slice(0, n.indexOf('/')) : '')));
  if (pkls.length > 1 || tops.size > 1) {
    throw unreadable(name, `zip archive has ${pkls.length > 1 ? `${pkls.length} data.pkl entries` : `${tops.size} top-level folders`}; torch.save writes one folder with one data.pkl: ambiguous, refused`);
  }
  // Every record's local header is read to find where its bytes start (one per storage): fetched together.
  await src.prefetch([...entries.values()].map((e) => [e.relativeOffsetOfLocalHeader, LOCAL_HEADER_BYTES + e.fileNameLength + e.extraFieldLength]));
  const pklName = pkls[0];
  const top = pklName.includes('/') ? pklName.slice(0, pklName.indexOf('/') + 1) : '';
  const pkl = entries.get(pklName) as yauzl.Entry;

  let bigEndian = false;
  const byteorder = entries.get(`${top}byteorder`);
  const readsByteorder = byteorder !== undefined && byteorder.compressionMethod === 0 && byteorder.compressedSize <= 16;
  // The two headers wanted before the pickle runs, read together.
  const first = await dataStarts(src, [...(readsByteorder ? [byteorder] : []), ...(pkl.compressionMethod === 0 ? [pkl] : [])], name);
  if (readsByteorder) {
    const at = first.get(byteorder) as number;
    bigEndian = (await src.read(at, byteorder.compressedSize, 'byteorder entry')).toString('latin1').trim() === 'big';
    if (bigEndian) notes.push('storages are big-endian (the `byteorder` entry says so), so no byte locations are given');
  }

  let pickleSrc: RandomAccess = src;
  let start = 0;
  let end: number;
  if (pkl.compressionMethod === 0) {
    start = first.get(pkl) as number;
    end = start + pkl.compressedSize;
  } else {
    pickleSrc = new BufferSource(`${name} (${pklName})`, await inflate(zip, pkl, name));
    end = pickleSrc.size;
  }

  const { value } = await runPickle(pickleSrc, start, end, {
    requireProto: true,
    persistentLoad: (pid, ctx) => storageFromPid(pid, ctx),
  });

  const flat = flattenTensors(name, value, classifyTorch, end - start);
  notes.push(...flat.notes);
  // The records of the storages the tensors use (only those: an unused record is never looked at), their headers read together.
  const records = new Map<string, yauzl.Entry>();
  if (!bigEndian) {
    for (const leaf of flat.leaves) {
      const key = leaf.value.storage?.key;
      const entry = key === undefined ? undefined : entries.get(`${top}data/${key}`);
      if (key !== undefined && entry?.compressionMethod === 0) records.set(key, entry);
    }
  }
  const starts = await dataStarts(src, [...records.values()], name);
  const located = new Map<string, StorageBytes | undefined>();
  const missing = new Set<string>();
  const compressed = new Set<string>();
  const short: string[] = [];
  const problems: string[] = [];
  const tensors: TensorInfo[] = [];
  for (const leaf of flat.leaves) {
    const t = leaf.value;
    let bytes: StorageBytes | undefined;
    if (t.storage && !bigEndian) {
      const key = t.storage.key;
      if (!located.has(key)) {
        const entry = entries.get(`${top}data/${key}`);
        let where: StorageBytes | undefined;
        if (!entry) missing.add(key);
        else if (entry.compressionMethod !== 0) compressed.add(key);
        else {
          where = { file: absPath, offset: starts.get(entry) as number, length: entry.compressedSize };
          const declared = t.storage.numel * (DTYPE_SIZE[t.storage.dtype] ?? 0);
          if (declared > entry.compressedSize) short.push(`\`${top}data/${key}\` declares ${declared} bytes, its record holds ${entry.compressedSize}`);
        }
        located.set(key, where);
      }
      bytes = located.get(key);
    }
    const { info, problem } = tensorInfo(leaf.key || 'tensor', t, bytes);
    if (problem) problems.push(`\`${info.key}\`: ${problem}`);
    tensors.push(info);
  }
  if (flat.leaves.length === 1 && flat.leaves[0].key === '') notes.push('the file holds a single tensor, listed as `tensor`');
  if (missing.size > 0) notes.push(`${missing.size} storage${missing.size === 1 ? ' is' : 's are'} missing from the archive (first: \`${top}data/${[...missing][0]}\`): those tensors have no location`);
  if (short.length > 0) notes.push(`${short.length} storage${short.length === 1 ? ' is' : 's are'} shorter than declared (${short.slice(0, 2).join('; ')}${short.length > 2 ? '; …' : ''}): tensors past their end have no location`);
  if (compressed.size > 0) notes.push(`${compressed.size} storage entr${compressed.size === 1 ? 'y is' : 'ies are'} compressed, so their tensors have no byte location`);
  if (problems.length > 0) notes.push(`no byte location for ${problems.length} tensor${problems.length === 1 ? '' : 's'}: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? '; …' : ''}`);
  if (pkl.compressionMethod !== 0) notes.push('data.pkl is compressed: error offsets would be within data.pkl, not the file');
  const state = stateContent(value);
  if (state) notes.unshift(state.note);
  return { file: name, format: 'torch-zip', framework: 'torch', tensors, notes, ...(state ? { content: state.content } : {}) };
}

function zipReason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (/end of central directory record signature not found/i.test(msg)) return 'not a zip archive (no end-of-central-directory record): truncated, or not a torch.save zip checkpoint';
  return `not a readable zip archive: ${msg}`;
}

/**
 * yauzl reads through our ByteSource (already opened non-blocking and checked to be a regular file),
 * so the archive's directory and data.pkl count against the header budget and the read trace like
 * every other format's bytes.
 */
class SourceReader extends yauzl.RandomAccessReader {
  /** The last window read: yauzl asks for each directory record in two small reads (and a local header, where it reads one). */
  private window?: { start: number; bytes: Buffer };
  /** The next window's size: it doubles while yauzl reads on from the last one (the central directory). */
  private next = WINDOW;

  constructor(private readonly src: ByteSource) {
    super();
  }

  _readStreamForRange(start: number, end: number): Readable {
    const src = this.src;
    return Readable.from((async function* () { yield await src.read(start, end - start, 'zip data'); })(), { objectMode: false });
  }

  /**
   * yauzl reads its directory and local headers through this, a few dozen bytes at a time, so each read
   * pulls in a window that serves the next ones: a zip of 5,000 small tensors took 15,000 reads. A window
   * starts small (big tensors between local headers cost little budget) and doubles while the reads go
   * on from it, so a directory of thousands of records comes in a few reads, not one per 4 KiB.
   */
  read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null) => void): void {
    const w = this.window;
    if (w && position >= w.start && position + length <= w.start + w.bytes.length) {
      w.bytes.copy(buffer, offset, position - w.start, position - w.start + length);
      process.nextTick(callback, null);
      return;
    }
    const onFrom = w !== undefined && position >= w.start && position <= w.start + w.bytes.length;
    this.next = onFrom ? Math.min(this.next * 2, MAX_WINDOW) : WINDOW;
    // Never less than asked: a read past the end must still fail as one (`truncated?`).
    const size = Math.max(length, Math.min(this.next, this.src.size - position));
    this.src.read(position, size, 'zip data').then((bytes) => {
      this.window = { start: position, bytes };
      bytes.copy(buffer, offset, 0, length);
      callback(null);
    }, (e: Error) => callback(e));
  }
}

export async function openZip(src: ByteSource, name: string): Promise<yauzl.ZipFile> {
  try {
    return await new Promise<yauzl.ZipFile>((resolve, reject) => {
      yauzl.fromRandomAccessReader(new SourceReader(src), src.size, { lazyEntries: true, autoClose: false }, (err, zip) => {
        if (err || !zip) {
          reject(err instanceof ReaderError ? err : unreadable(name, zipReason(err)));
          return;
        }
        // Errors after the listing (a failed local header read) arrive through callbacks; keep a listener so none is unhandled.
        zip.on('error', () => undefined);
        resolve(zip);
      });
    });
  } catch (e) {
    throw e instanceof ReaderError ? e : unreadable(name, zipReason(e));
  }
}

export function listEntries(zip: yauzl.ZipFile, name: string): Promise<Map<string, yauzl.Entry>> {
  return new Promise((resolve, reject) => {
    const entries = new Map<string, yauzl.Entry>();
    const onError = (e: unknown) => { cleanup(); reject(unreadable(name, zipReason(e))); };
    const onEntry = (entry: yauzl.Entry) => {
      if (entries.size >= MAX_ENTRIES) { cleanup(); reject(unreadable(name, `zip archive has more than ${MAX_ENTRIES} entries`)); return; }
      if (entries.has(entry.fileName)) {
        // Two entries of one name: torch would read one of them, a zip tool the other. Never guess.
        cleanup();
        reject(unreadable(name, `zip archive holds two entries named ${JSON.stringify(entry.fileName.slice(0, 200))}: ambiguous, refused`));
        return;
      }
      entries.set(entry.fileName, entry);
      zip.readEntry();
    };
    const onEnd = () => { cleanup(); resolve(entries); };
    const cleanup = () => {
      zip.off('error', onError);
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
    };
    zip.on('error', onError);
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.readEntry();
  });
}

function inflate(zip: yauzl.ZipFile, entry: yauzl.Entry, name: string): Promise<Buffer> {
  if (entry.uncompressedSize > MAX_INFLATED_PICKLE) {
    return Promise.reject(unreadable(name, `${entry.fileName} is compressed and ${entry.uncompressedSize} bytes inflated, over the ${MAX_INFLATED_PICKLE}-byte limit`));
  }
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) { reject(unreadable(name, `cannot read ${entry.fileName}: ${err?.message ?? 'no stream'}`)); return; }
      // One buffer of the declared size (yauzl checks the stream against it): no chunks, no copy.
      const out = Buffer.alloc(entry.uncompressedSize);
      let at = 0;
      stream.on('data', (c: Buffer) => {
        if (at + c.length > out.length) { stream.destroy(); reject(unreadable(name, `${entry.fileName} inflates past its declared ${out.length} bytes`)); return; }
        c.copy(out, at);
        at += c.length;
      });
      stream.on('error', (e: Error) => reject(unreadable(name, `cannot inflate ${entry.fileName}: ${e.message}`)));
      stream.on('end', () => resolve(out.subarray(0, at)));
    });
  });
}
