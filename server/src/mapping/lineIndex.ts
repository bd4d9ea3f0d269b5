/** Offset ↔ (line, column) conversion over a text's line starts; both 0-based, UTF-16 columns as in JS strings. */

export function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 10) starts.push(i + 1);
  }
  return starts;
}

/** The 0-based line holding an offset (binary search over the line starts). */
export function lineAt(lineStarts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function positionAt(lineStarts: number[], offset: number): { line: number; character: number } {
  const line = lineAt(lineStarts, offset);
  return { line, character: offset - lineStarts[line] };
}

export function offsetAt(lineStarts: number[], textLength: number, line: number, character: number): number {
  if (line >= lineStarts.length) return textLength;
  const start = lineStarts[Math.max(0, line)];
  const end = line + 1 < lineStarts.length ? lineStarts[line + 1] - 1 : textLength;
  return Math.min(start + Math.max(0, character), end);
}
