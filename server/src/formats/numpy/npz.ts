/**
 * A NumPy `.npz` archive (`np.savez`: stored members, `np.savez_compressed`: deflated ones): a zip of
 * `.npy` files, each listed under its member name without `.npy` — what `np.load(f).files` says. Only
 * the central directory and each member's `.npy` header are read: a stored member's header at its data
 * start, a deflated member's by inflating its first compressed bytes only (no location then: the data
 * must be inflated to be read).
 */
import { resolve as resolvePath } from 'node:path';
import { constants, inflateRawSync } from 'node:zlib';
import type yauzl from 'yauzl';
import { ByteSource } from '../byteSource';
import { unreadable } from '../readerError';
import type { CheckpointInfo, TensorInfo } from '../tensorInfo';
import { listEntries, withZip } from '../torchZip';
import { dataStarts } from '../zipDataStarts';
import { NPY_MAX_HEADER, parseNpyHeader } from './npyHeader';
import { npyTensor } from './npyTensor';
import { frameworkByNames } from './naming';

/** Compressed bytes inflated per try; a header needs a few hundred. Deflate expands at most ~1032×, so a try yields at most ~1 MB. */
const FIRST_TRY = 1024;

export async function readNpz(path: string, displayName: string): Promise<CheckpointInfo> {
  return withZip(path, displayName, 'the .npz archive', (src, zip) => readMembers(resolvePath(path), src, zip));
}

async function readMembers(absPath: string, src: ByteSource, zip: yauzl.ZipFile): Promise<CheckpointInfo> {
  const name = src.displayName;
  const entries = await listEntries(zip, name);
  const tensors: TensorInfo[] = [];
  const problems: string[] = [];
  const others: string[] = [];
  let deflated = 0;
  const starts = await dataStarts(src, [...entries].filter(([member]) => member.endsWith('.npy')).map(([, entry]) => entry), name);
  for (const [member, entry] of entries) {
    if (!member.endsWith('.npy')) {
      if (!member.endsWith('/')) others.push(member);
      continue;
    }
    const key = member.slice(0, -4);
    const start = starts.get(entry) as number;
    let head: Buffer;
    if (entry.compressionMethod === 0) head = await src.read(start, Math.min(entry.compressedSize, NPY_MAX_HEADER + 12), `the header of ${member}`);
    else if (entry.compressionMethod === 8) { head = await inflateHead(src, start, entry, member); deflated++; }
    else throw unreadable(name, `member ${member} uses zip compression method ${entry.compressionMethod}; numpy writes stored (0) or deflated (8) members`);
    const parsed = parseNpyHeader(head);
    if ('need' in parsed) throw unreadable(name, `member ${member}: the .npy header needs ${parsed.need} bytes, the member has ${head.length}: truncated?`);
    if ('error' in parsed) throw unreadable(name, `member ${member}: ${parsed.error}`);
    const h = parsed.header;
    const stored = entry.compressionMethod === 0;
    const { info, problem } = npyTensor(key, h, absPath, start + h.dataOffset, stored ? entry.compressedSize - h.dataOffset : undefined);
    if (problem) problems.push(problem);
    tensors.push(info);
  }
  const notes: string[] = [];
  if (deflated > 0) notes.push(`${deflated} member${deflated === 1 ? ' is' : 's are'} deflated (\`np.savez_compressed\`): listed from their headers, with no byte location`);
  if (others.length > 0) notes.push(`${others.length} member${others.length === 1 ? ' is' : 's are'} not .npy arrays and ${others.length === 1 ? 'is' : 'are'} not listed (first: \`${others[0]}\`)`);
  if (problems.length > 0) notes.push(`no byte location for ${problems.length} array${problems.length === 1 ? '' : 's'}: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? '; …' : ''}`);
  const framework = frameworkByNames(tensors.map((t) => t.key));
  if (framework) notes.push(framework.note);
  return { file: name, format: 'npz', tensors, notes, ...(framework ? { framework: framework.framework } : {}) };
}

/**
 * The `.npy` header at the start of a deflated member: its first compressed bytes inflated with a sync
 * flush (a partial stream is fine), more only while the header is longer than what came out.
 */
async function inflateHead(src: ByteSource, start: number, entry: yauzl.Entry, member: string): Promise<Buffer> {
  let take = Math.min(entry.compressedSize, FIRST_TRY);
  for (;;) {
    const raw = await src.read(start, take, `the start of ${member}`);
    let out: Buffer;
    try {
      out = inflateRawSync(raw, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch (e) {
      throw unreadable(src.displayName, `member ${member} does not inflate: ${(e as Error).message}`);
    }
    const parsed = parseNpyHeader(out);
    if (!('need' in parsed) || take >= entry.compressedSize || take >= NPY_MAX_HEADER + 1024) return out;
    take = Math.min(entry.compressedSize, take * 4, NPY_MAX_HEADER + 1024);
  }
}
