/**
 * The only error a reader may throw. Every failure to read a checkpoint — truncated, corrupt, unknown,
 * or a pickle that names a callable outside the allow-list — becomes one of these, with the file and a
 * reason a user can act on. Anything else escaping a reader is a bug (the fuzz test enforces this).
 */
import { clip, clipLine } from './clip';
import { printable } from './printable';

/**
 * `not-a-checkpoint`: a file that is plainly something else — a pickle of settings or other objects
 * (Trainer's training_args.bin, a whole nn.Module), a Git LFS pointer — refused like any other, but
 * shown as information in the editor: nobody can act on it as an error.
 */
export type ReaderErrorCode = 'unreadable-checkpoint' | 'unsafe-pickle' | 'not-a-checkpoint';

export class ReaderError extends Error {
  readonly code: ReaderErrorCode;
  readonly file: string;
  /** Byte offset of the fault where one is known (pickle opcodes, header fields). */
  readonly offset?: number;
  readonly reason: string;
  /**
   * A bug of the reader (an exception it did not expect), reported to the user like any unreadable
   * file but told apart here, so the fuzz test and the hostile corpus count it as a failure.
   */
  internal = false;

  constructor(code: ReaderErrorCode, file: string, reason: string, offset?: number) {
    // Reasons quote what the file says (names, strings): escaped once here, for every place they are shown,
    // and bounded (a 6 MiB path, a megabyte-long key) so the message stays one short line.
    const safe = printable(reason);
    super(`${printable(clip(file))}: ${clipLine(safe)}${offset !== undefined ? ` (at byte ${offset})` : ''}`);
    this.name = 'ReaderError';
    this.code = code;
    this.file = file;
    this.reason = safe;
    this.offset = offset;
  }
}

export function unreadable(file: string, reason: string, offset?: number): ReaderError {
  return new ReaderError('unreadable-checkpoint', file, reason, offset);
}

/** An exception a reader did not expect, as a ReaderError marked internal (see `ReaderError.internal`). */
export function internalError(file: string, what: string, e: unknown): ReaderError {
  const err = unreadable(file, `internal error while reading ${what}: ${e instanceof Error ? e.message : String(e)}`);
  err.internal = true;
  return err;
}
