/** Exit codes and the one place that turns a failure into a one-line message on stderr. */
import { clipLine } from '../formats/clip';
import { printable } from '../formats/printable';
import { ReaderError } from '../formats/readerError';
import { InputError } from '../tools/inputError';

export const EXIT = { ok: 0, findings: 1, usage: 2 } as const;

/** Bad usage of the command line; the tools' InputError (a bad option or input) exits the same way. */
export class UsageError extends InputError {
  /** The command's usage text, printed as written after the (escaped) one-line reason: it is ours, not a file's. */
  constructor(message: string, readonly usage?: string) {
    super(message);
  }
}

export function die(e: unknown): void {
  // One line each, whatever a file or an argument says: its text is escaped (printable) and bounded (clipLine).
  if (e instanceof ReaderError) {
    process.stderr.write(`tensorport: ${clipLine(e.message)}\n`);
  } else if (e instanceof InputError) {
    process.stderr.write(`tensorport: ${clipLine(printable(e.message))}\n${e instanceof UsageError && e.usage ? `${e.usage}\n` : ''}`);
  } else {
    // Not expected: still one line, no stack, so scripts and CI logs stay readable.
    process.stderr.write(`tensorport: internal error: ${clipLine(printable(e instanceof Error ? e.message : String(e)))}\n`);
  }
  process.exitCode = EXIT.usage;
}
