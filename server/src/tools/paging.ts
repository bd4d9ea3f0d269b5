/**
 * Long lists in agents' answers, paged: an MCP answer is one JSON line that a client reads into a
 * bounded buffer (the SDK's is 10 MiB), and a 100k-tensor listing twice over (structured and text)
 * is far past it. A list longer than a page, or filtered, comes with `page`: the total, what came, and
 * the offset of the next page. A short unfiltered list is the CLI's document unchanged.
 */
import { MAX_PAGE } from './schemas';

export interface PageInput { offset?: number; limit?: number }
export interface Page { total: number; offset: number; count: number; next?: number }

export function pageOf<T>(items: readonly T[], input: PageInput, filtered = false): { items: T[]; page?: Page } {
  const offset = input.offset ?? 0;
  const limit = Math.min(input.limit ?? MAX_PAGE, MAX_PAGE);
  const slice = items.slice(offset, offset + limit);
  if (!filtered && offset === 0 && slice.length === items.length) return { items: slice };
  const end = offset + slice.length;
  return { items: slice, page: { total: items.length, offset, count: slice.length, ...(end < items.length ? { next: end } : {}) } };
}

/**
 * A key filter: the text anywhere in the key, `*` any run of characters. Matched by searching the
 * pieces in order (no regular expression: a pattern from an agent cannot make it backtrack).
 */
export function keyFilter(pattern: string): (key: string) => boolean {
  const pieces = pattern.split('*').filter(Boolean);
  return (key) => {
    let at = 0;
    for (const p of pieces) {
      const i = key.indexOf(p, at);
      if (i < 0) return false;
      at = i + p.length;
    }
    return true;
  };
}
