/**
 * Text a file controls — a tensor name, a metadata key, a shard path — made safe to show: control
 * characters (C0, DEL, C1), line and paragraph separators and the bidirectional overrides become
 * visible escapes (`\x1b`, `\u{202e}`), so a name can neither write to the user's terminal (ANSI
 * sequences) nor break a one-line message, nor reorder what is displayed around it.
 */

// eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex -- the same, newlines allowed (multi-line text such as hover markdown)
const UNSAFE_KEEP_NEWLINES = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escape = (c: string): string => {
  const n = c.charCodeAt(0);
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`;
};

export function printable(s: string, opts: { keepNewlines?: boolean } = {}): string {
  return s.replace(opts.keepNewlines ? UNSAFE_KEEP_NEWLINES : UNSAFE, escape);
}

/**
 * A JSON document for a terminal: JSON.stringify already escapes C0 controls; this escapes the rest
 * that `printable` does (DEL, C1, separators, bidi overrides) as `\uXXXX`, which parses back to the
 * same strings.
 */
export function printableJson(json: string): string {
  return json.replace(/[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
