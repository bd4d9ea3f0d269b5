/**
 * "Did you mean": the real keys closest to a mistyped one. Candidates come from the subtree of the
 * longest prefix that exists, so a typo near the end costs a few hundred comparisons, not 100,000.
 * Numbers in the candidates are folded back into the pattern's captures so a suggestion for
 * `encoder.layer.{i}.atention.query` reads `encoder.layer.{i}.attention.query`.
 */
import { splitKey } from './keySegments';
import { KeyTrie } from './keyTrie';
import { KeyPattern } from './syntax';

const CANDIDATE_LIMIT = 4000;

export function closestKeys(pattern: KeyPattern, trie: KeyTrie, max = 3): string[] {
  const pool = trie.keysNear(pattern.segments, max * 4, CANDIDATE_LIMIT);
  const segments = pattern.segments;
  const hasStar = segments.at(-1)?.kind === 'star';
  const want = pattern.text;
  const scored = new Map<string, number>();
  for (const key of pool) {
    let segs = splitKey(key);
    if (hasStar) segs = segs.slice(0, segments.length - 1).concat({ sep: segments.at(-1)!.sep, text: '*', start: 0 });
    // A candidate's layer number goes back into the pattern's capture where the segment is the capture's shape.
    const folded = segs.map(({ sep, text }, i) => {
      const s = segments[i];
      if (s?.kind !== 'capture') return sep + text;
      const pre = s.prefix ?? '';
      const suf = s.suffix ?? '';
      const fits = text.startsWith(pre) && text.endsWith(suf) && /^\d+$/.test(text.slice(pre.length, text.length - suf.length));
      return sep + (fits ? `${pre}{${s.name}}${suf}` : text);
    }).join('');
    if (scored.has(folded)) continue;
    const d = levenshtein(want, folded, Math.max(4, Math.floor(want.length / 3)));
    if (d !== undefined) scored.set(folded, d);
  }
  return [...scored.entries()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])).slice(0, max).map(([k]) => k);
}

/** Edit distance, or undefined once it must exceed `limit` (keeps far candidates cheap). */
export function levenshtein(a: string, b: string, limit: number): number | undefined {
  if (Math.abs(a.length - b.length) > limit) return undefined;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < best) best = v;
    }
    if (best > limit) return undefined;
    prev = cur;
  }
  return prev[b.length] <= limit ? prev[b.length] : undefined;
}
