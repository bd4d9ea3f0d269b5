/**
 * The keys of one side as a trie of segments (split at `.` and `/`, keySegments.ts). Patterns (`{i}`
 * captures, a trailing `*`) are matched by walking it, so a 5,000-rule mapping over 100,000 keys costs a
 * walk per rule rather than a scan of every key.
 */
import { childOf, segmentId, TrieBuilder, TrieData } from '../index/trieData';
import { splitKey } from './keySegments';
import { Segment } from './syntax';

export interface Match {
  key: string;
  bindings: Record<string, number>;
  /** The part matched by a trailing `*`. */
  tail?: string;
}

/**
 * The trie's structure is index/trieData.ts (typed arrays, built without a string per segment: 100,000
 * keys in ~55 ms warm where splitting them into strings and Map lookups took ~85, docs/benchmarks.md);
 * this class walks it with patterns. `keys[keyAt[node]]` is the key ending at a node.
 */
export class KeyTrie {
  readonly size: number;
  private readonly t: TrieData;

  /**
   * From the keys (`data` absent), or over a structure built elsewhere (a read worker) whose key indexes
   * point into `keys`.
   */
  constructor(private readonly keys: readonly string[], data?: TrieData) {
    if (!data) {
      const b = new TrieBuilder(keys.length);
      for (let k = 0; k < keys.length; k++) b.add(keys[k], 0, keys[k].length, k);
      data = b.finish();
    }
    this.t = data;
    this.size = data.size;
  }

  match(segments: readonly Segment[]): Match[] {
    const out: Match[] = [];
    this.walk(0, segments, 0, 0, {}, out);
    return out;
  }

  /**
   * Keys near a pattern, for suggestions: under the deepest node its leading literal segments reach
   * (a capture walks into every numbered child), backing off to ancestors until there are `want` keys.
   */
  keysNear(segments: readonly Segment[], want: number, limit: number): string[] {
    const path: number[][] = [[0]];
    for (const s of segments) {
      const level = path[path.length - 1];
      const next: number[] = [];
      for (const node of level) {
        if (s.kind === 'literal') {
          const c = this.childNamed(node, s.sep + s.text);
          if (c >= 0) next.push(c);
        } else if (s.kind === 'capture') {
          for (let c = this.t.first[node]; c >= 0; c = this.t.next[c]) if (captureValue(s, this.t.segs[this.t.seg[c]]) !== undefined) next.push(c);
        }
      }
      if (next.length === 0) break;
      path.push(next);
    }
    for (let depth = path.length - 1; depth >= 0; depth--) {
      const out: string[] = [];
      for (const node of path[depth]) this.collect(node, out, limit);
      if (out.length >= want || depth === 0) return out;
    }
    return [];
  }

  /** Keys starting with `prefix`, which ends at a segment boundary (`a.b.`, `a/b/`) or is empty. */
  keysWithPrefix(prefix: string, limit: number): string[] {
    let node = 0;
    for (const { sep, text } of splitKey(prefix).slice(0, -1)) {
      node = this.childNamed(node, sep + text);
      if (node < 0) return [];
    }
    const out: string[] = [];
    this.collect(node, out, limit);
    return out;
  }

  private childNamed(node: number, text: string): number {
    const id = segmentId(this.t, text);
    return id < 0 ? -1 : childOf(this.t, node, id);
  }

  /** `at`: the characters of the key the walk has consumed down to `node`. */
  private walk(node: number, segs: readonly Segment[], i: number, at: number, bindings: Record<string, number>, out: Match[]): void {
    if (i === segs.length) {
      if (this.t.keyAt[node] >= 0) out.push({ key: this.keys[this.t.keyAt[node]], bindings: { ...bindings } });
      return;
    }
    const s = segs[i];
    if (s.kind === 'literal') {
      const label = s.sep + s.text;
      const next = this.childNamed(node, label);
      if (next >= 0) this.walk(next, segs, i + 1, at + label.length, bindings, out);
    } else if (s.kind === 'capture') {
      const bound = bindings[s.name];
      if (bound !== undefined) {
        const label = s.sep + captureText(s, bound);
        const next = this.childNamed(node, label);
        if (next >= 0) this.walk(next, segs, i + 1, at + label.length, bindings, out);
        return;
      }
      for (let c = this.t.first[node]; c >= 0; c = this.t.next[c]) {
        const label = this.t.segs[this.t.seg[c]];
        const v = captureValue(s, label);
        if (v === undefined) continue;
        bindings[s.name] = v;
        this.walk(c, segs, i + 1, at + label.length, bindings, out);
        delete bindings[s.name];
      }
    } else {
      // A trailing `*` matches one or more segments after its separator: every key strictly below this node.
      const found: string[] = [];
      for (let c = this.t.first[node]; c >= 0; c = this.t.next[c]) if (this.t.segs[this.t.seg[c]].startsWith(s.sep)) this.collect(c, found, Infinity);
      for (const key of found) out.push({ key, bindings: { ...bindings }, tail: key.slice(at + s.sep.length) });
    }
  }

  private collect(node: number, out: string[], limit: number): void {
    if (out.length >= limit) return;
    if (this.t.keyAt[node] >= 0) out.push(this.keys[this.t.keyAt[node]]);
    for (let c = this.t.first[node]; c >= 0; c = this.t.next[c]) {
      if (out.length >= limit) return;
      this.collect(c, out, limit);
    }
  }
}

/** The layer number a capture segment reads from a trie label (separator included), if it fits. */
function captureValue(s: Segment & { kind: 'capture' }, label: string): number | undefined {
  const pre = s.sep + (s.prefix ?? '');
  const suf = s.suffix ?? '';
  if (label.length <= pre.length + suf.length || !label.startsWith(pre) || !label.endsWith(suf)) return undefined;
  const digits = label.slice(pre.length, label.length - suf.length);
  return /^(0|[1-9]\d*)$/.test(digits) ? Number(digits) : undefined;
}

function captureText(s: Segment & { kind: 'capture' }, value: number | string): string {
  return `${s.prefix ?? ''}${value}${s.suffix ?? ''}`;
}

/** A segment as written in a pattern, separator included (`/encoderblock_{i}`). */
export function segmentText(s: Segment): string {
  return s.sep + (s.kind === 'literal' ? s.text : s.kind === 'capture' ? captureText(s, `{${s.name}}`) : '*');
}

/** The concrete key a pattern names under some bindings and tail; undefined when a capture is unbound. */
export function instantiate(segments: readonly Segment[], bindings: Record<string, number>, tail?: string): string | undefined {
  let out = '';
  for (const s of segments) {
    if (s.kind === 'literal') out += s.sep + s.text;
    else if (s.kind === 'capture') {
      const v = bindings[s.name];
      if (v === undefined) return undefined;
      out += s.sep + captureText(s, v);
    } else {
      if (tail === undefined) return undefined;
      out += s.sep + tail;
    }
  }
  return out;
}

export function captureNames(segments: readonly Segment[]): string[] {
  return segments.flatMap((s) => (s.kind === 'capture' ? [s.name] : []));
}
