/**
 * An argument echoed in a message, at most `max` characters: a 6 MiB path said back twice would make
 * a 12 MB line, past what an MCP client reads as one message. The middle goes, the ends stay (a
 * path's folder and file name both say something).
 */
export const ECHO_MAX = 300;

export function clip(s: string, max = ECHO_MAX): string {
  if (s.length <= max) return s;
  const head = Math.ceil((max - 1) * 0.6);
  return `${s.slice(0, head)}…${s.slice(s.length - (max - 1 - head))}`;
}

/** The most a whole one-line message may be, whatever it quotes. */
export const LINE_MAX = 4000;

/**
 * A one-line message bounded wherever its text came from: each run of non-space text longer than
 * `max` clipped (an argument or a file's string quoted in it), then the whole line.
 */
export function clipLine(line: string, max = ECHO_MAX): string {
  if (line.length <= max) return line;
  return clip(line.replace(new RegExp(`\\S{${max + 1},}`, 'g'), (run) => clip(run, max)), LINE_MAX);
}
