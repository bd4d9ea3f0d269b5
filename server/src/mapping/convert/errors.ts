/**
 * The one error the converter throws (besides an AbortSignal's reason). `kind` tells the CLI which
 * exit code it is: `mapping` — the mapping has errors or does not produce the target's tensors (1);
 * `input` — a checkpoint cannot be read or converted (2); `io` — the mapping file or the output (2).
 */
import { printable } from '../../formats/printable';

export type ConvertErrorKind = 'mapping' | 'input' | 'io';

export class ConvertError extends Error {
  constructor(readonly kind: ConvertErrorKind, message: string, readonly problems: string[] = []) {
    super(message);
    this.name = 'ConvertError';
  }
}

/** At most `limit` lines, then "… and N more", so a broken 100,000-key mapping stays readable. */
export function listProblems(problems: readonly string[], limit = 10): string {
  // One problem a line: each made printable, so a name in one cannot start another line of its own.
  const shown = problems.slice(0, limit).map((p) => `  ${printable(p)}`);
  if (problems.length > limit) shown.push(`  … and ${problems.length - limit} more`);
  return shown.join('\n');
}
