/**
 * How many rules read each source key and write each target key, kept up to date by difference: an
 * edit replaces one rule's result, so only that rule's keys are counted again. Unmapped keys (count 0)
 * and duplicate targets (count > 1) then cost O(changed rules), not O(all rules × their keys) — the
 * difference between a 5,000-line mapping re-checking in ~5 ms or ~15 ms per keystroke.
 */
import { RuleResult } from './ruleCheck';

export class KeyCounts {
  readonly counts = new Map<string, number>();
  /** Keys with a count above zero. */
  distinct = 0;
  /** Keys with a count above one. */
  readonly multiple = new Set<string>();

  add(keys: readonly string[], by: number): void {
    for (const k of keys) {
      const before = this.counts.get(k) ?? 0;
      const after = before + by;
      if (after === 0) this.counts.delete(k); else this.counts.set(k, after);
      if (before === 0 && after > 0) this.distinct++;
      else if (before > 0 && after === 0) this.distinct--;
      if (after > 1) this.multiple.add(k); else this.multiple.delete(k);
    }
  }

  has(k: string): boolean {
    return this.counts.has(k);
  }
}

export class Coverage {
  readonly reads = new KeyCounts();
  readonly writes = new KeyCounts();
  private results = new Map<RuleResult, number>();

  /** Brings the counts to the given rules' results, touching only results that came or went. */
  update(results: readonly RuleResult[]): void {
    const next = new Map<RuleResult, number>();
    for (const r of results) next.set(r, (next.get(r) ?? 0) + 1);
    for (const [r, n] of next) {
      const delta = n - (this.results.get(r) ?? 0);
      if (delta !== 0) this.apply(r, delta);
    }
    for (const [r, n] of this.results) if (!next.has(r)) this.apply(r, -n);
    this.results = next;
  }

  private apply(r: RuleResult, by: number): void {
    this.reads.add(r.reads, by);
    // A rule writing a key twice is not a duplicate of itself: count each rule once per key.
    this.writes.add(r.writes.length > 1 ? [...new Set(r.writes)] : r.writes, by);
  }
}
