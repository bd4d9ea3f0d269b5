/**
 * Where zip entries' bytes begin, for many entries at once. The central directory gives each entry's
 * local header offset, not its data offset: the local header's own name and extra-field lengths decide
 * that (torch pads the extra field to align storages), so each located storage costs a header read.
 * Read one by one — yauzl's way — a first read of a torch zip waited on thousands of reads in a row.
 * Here headers that lie close together (small storages written back to back) come in one span, spans
 * come a few at a time, and each header is checked as yauzl checks it.
 */
import type yauzl from 'yauzl';
import type { ByteSource } from './byteSource';
import { mapLimit } from './mapLimit';
import { unreadable } from './readerError';

/** A zip local file header up to its name (APPNOTE 4.3.7): enough to know where the data starts. */
const LOCAL_HEADER_BYTES = 30;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;
/**
 * Headers at most this far apart share a span, so a span reads at most 4 KiB per header it holds — what
 * the 4 KiB window read per header before: the header budget (maxHeaderMB) sees no more bytes.
 */
const MAX_GAP = 4096 - LOCAL_HEADER_BYTES;
/** No span longer than this: many small storages still arrive in several reads that run side by side. */
const MAX_SPAN = 1 << 20;
/** Spans read at a time (node's file reads run on a pool of four threads; a remote file batches its own). */
const PARALLEL = 8;

interface Span { start: number; end: number; entries: yauzl.Entry[] }

/** The offset where each entry's data begins; the first bad header (in `entries`' order) fails the read. */
export async function dataStarts(src: Pick<ByteSource, 'size' | 'read' | 'prefetch'>, entries: readonly yauzl.Entry[], name: string): Promise<Map<yauzl.Entry, number>> {
  const spans = spansOf(entries.filter((e) => e.relativeOffsetOfLocalHeader + LOCAL_HEADER_BYTES <= src.size));
  await src.prefetch(spans.map((s) => [s.start, s.end - s.start]));
  const read = await mapLimit(spans, PARALLEL, (s) => src.read(s.start, s.end - s.start, 'zip local headers'));
  const headerAt = new Map<yauzl.Entry, Buffer>();
  spans.forEach((s, i) => {
    for (const e of s.entries) headerAt.set(e, read[i].subarray(e.relativeOffsetOfLocalHeader - s.start));
  });
  const out = new Map<yauzl.Entry, number>();
  for (const e of entries) {
    const h = headerAt.get(e);
    if (!h) {
      throw unreadable(name, `zip entry ${e.fileName}: its local header (${LOCAL_HEADER_BYTES} bytes at byte ${e.relativeOffsetOfLocalHeader}) runs past the end of the file (${src.size} bytes): truncated?`);
    }
    const signature = h.readUInt32LE(0);
    if (signature !== LOCAL_HEADER_SIGNATURE) throw unreadable(name, `zip entry ${e.fileName}: invalid local file header signature: 0x${signature.toString(16)}`);
    const start = e.relativeOffsetOfLocalHeader + LOCAL_HEADER_BYTES + h.readUInt16LE(26) + h.readUInt16LE(28);
    if (start + e.compressedSize > src.size) {
      throw unreadable(name, `zip entry ${e.fileName}: file data overflows file bounds: ${start} + ${e.compressedSize} > ${src.size}`);
    }
    out.set(e, start);
  }
  return out;
}

/** The headers in file order, those close together joined into one span. */
function spansOf(entries: readonly yauzl.Entry[]): Span[] {
  const sorted = [...new Set(entries)].sort((a, b) => a.relativeOffsetOfLocalHeader - b.relativeOffsetOfLocalHeader);
  const spans: Span[] = [];
  for (const e of sorted) {
    const start = e.relativeOffsetOfLocalHeader;
    const end = start + LOCAL_HEADER_BYTES;
    const last = spans[spans.length - 1];
    if (last && start - last.end <= MAX_GAP && end - last.start <= MAX_SPAN) {
      last.end = Math.max(last.end, end);
      last.entries.push(e);
    } else spans.push({ start, end, entries: [e] });
  }
  return spans;
}
