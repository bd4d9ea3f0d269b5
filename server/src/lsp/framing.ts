/**
 * The language server's stdin, reframed before vscode-jsonrpc reads it. Its StreamMessageReader
 * (vscode-jsonrpc 8, lib/common/messageReader.js + messageBuffer.js) throws on a header line without a
 * colon and returns early on a missing or non-numeric Content-Length, having consumed the header but
 * not the body: the body is then read as the next header and every later message is out of step —
 * one malformed message and the server answers nothing more. Upstream treats a framing error as fatal
 * to the stream; here the stream is repaired instead: a malformed header block (or an absurd length)
 * is dropped, said once on stderr, and reading resumes at the next `Content-Length:`. Well-formed
 * messages pass through byte for byte (headers rewritten as `Content-Length: N`, the only header the
 * reader needs; the body's encoding is utf-8, the only one it supports).
 */
import { Transform, TransformCallback } from 'node:stream';

/** A header block longer than this is not a header: resync. */
const MAX_HEADER_BYTES = 8192;
/** The most one message may be (a didOpen of a large file fits; a length of 10^15 is garbage). */
export const MAX_MESSAGE_BYTES = 512 * 2 ** 20;
const SEPARATOR = Buffer.from('\r\n\r\n');
const MARKER = 'content-length:';

export class ResyncingFraming extends Transform {
  private head: Buffer = Buffer.alloc(0);
  private body?: Buffer;
  private filled = 0;

  /** `onDropped` is told each time bytes are skipped, and why. */
  constructor(private readonly onDropped: (why: string) => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let data: Buffer = chunk;
    while (data.length) {
      if (this.body) {
        const n = Math.min(data.length, this.body.length - this.filled);
        data.copy(this.body, this.filled, 0, n);
        this.filled += n;
        data = data.subarray(n);
        if (this.filled === this.body.length) {
          this.push(Buffer.from(`Content-Length: ${this.body.length}\r\n\r\n`, 'ascii'));
          this.push(this.body);
          this.body = undefined;
        }
        continue;
      }
      this.head = this.head.length ? Buffer.concat([this.head, data]) : data;
      data = this.takeHeader();
    }
    done();
  }

  /** Parses a header block off `head`: returns the bytes after it (the body's start) or nothing while incomplete. */
  private takeHeader(): Buffer {
    for (;;) {
      const end = this.head.indexOf(SEPARATOR);
      if (end < 0) {
        if (this.head.length > MAX_HEADER_BYTES) this.resync('a header block with no end');
        return Buffer.alloc(0);
      }
      const length = contentLength(this.head.toString('latin1', 0, end));
      if (typeof length === 'string') {
        this.resync(length);
        continue;
      }
      const rest = this.head.subarray(end + SEPARATOR.length);
      this.head = Buffer.alloc(0);
      this.body = Buffer.allocUnsafe(length);
      this.filled = 0;
      if (length === 0) {
        this.push(Buffer.from('Content-Length: 0\r\n\r\n', 'ascii'));
        this.body = undefined;
      }
      return rest;
    }
  }

  /** Drops bytes up to the next `Content-Length:` after the start (or all but a possible partial one). */
  private resync(why: string): void {
    const text = this.head.toString('latin1').toLowerCase();
    const next = text.indexOf(MARKER, 1);
    const keep = next >= 0 ? next : Math.max(1, this.head.length - (MARKER.length - 1));
    this.onDropped(`${why}: skipped ${keep} bytes to the next message`);
    this.head = this.head.subarray(keep);
  }
}

/** The Content-Length of a header block, or why the block is malformed. */
function contentLength(block: string): number | string {
  let length: number | undefined;
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) return 'a header line without a colon';
    if (line.slice(0, colon).trim().toLowerCase() !== 'content-length') continue;
    const value = line.slice(colon + 1).trim();
    if (!/^\d{1,12}$/.test(value)) return 'a Content-Length that is not a byte count';
    length = Number(value);
  }
  if (length === undefined) return 'a header without Content-Length';
  if (length > MAX_MESSAGE_BYTES) return `a Content-Length over ${MAX_MESSAGE_BYTES / 2 ** 20} MiB`;
  return length;
}
