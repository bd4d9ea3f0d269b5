/**
 * Random-access reads from a file without loading it: readers ask for the few byte ranges a header
 * needs, and every length field is checked against the file size before it is trusted.
 */
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { unreadable } from './readerError';

export class ByteSource {
  private constructor(
    readonly path: string,
    readonly displayName: string,
    private readonly handle: fs.FileHandle,
    readonly size: number,
  ) {}

  static async open(path: string, displayName = path): Promise<ByteSource> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(path, 'r');
    } catch (e) {
      throw unreadable(displayName, describeFsError(e));
    }
    try {
      const st = await handle.stat();
      if (st.isDirectory()) throw unreadable(displayName, 'is a directory, not a checkpoint file');
      return new ByteSource(resolve(path), displayName, handle, st.size);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  /** Reads exactly `length` bytes at `offset`, or fails naming what was expected there. */
  async read(offset: number, length: number, what = 'data'): Promise<Buffer> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw unreadable(this.displayName, `${what} (${length} bytes at byte ${offset}) runs past the end of the file (${this.size} bytes): truncated?`);
    }
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) throw unreadable(this.displayName, `file shrank while reading ${what}`);
      done += bytesRead;
    }
    return buf;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Runs `fn` with an open source and always closes it. */
export async function withSource<T>(path: string, displayName: string, fn: (src: ByteSource) => Promise<T>): Promise<T> {
  const src = await ByteSource.open(path, displayName);
  try {
    return await fn(src);
  } finally {
    await src.close();
  }
}

export function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'is a directory, not a checkpoint file';
    default: return err?.message ?? String(e);
  }
}
