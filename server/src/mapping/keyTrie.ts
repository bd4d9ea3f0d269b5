/**
 * The keys of one side as a trie of segments (split at `.` and `/`, keySegments.ts). Patterns (`{i}`
 * captures, a trailing `*`) are matched by walking it, so a 5,000-rule mapping over 100,000 keys costs a
 * walk per rule rather than a scan of every key.
 */
import { splitKey } from './keySegments';
import { Segment } from './syntax';

export interface Match {
  key: string;
  bindings: Record<string, number>;
  /** The part matched by a trailing `*`. */
  tail?: string;
}

/** A node with more children than this finds them through a map; fewer are scanned. */
const WIDE = 8;

/**
 * Nodes are positions in typed arrays (segment id, first child, next sibling, key index) and segments
 * are interned, each with the separator before it (`.layer`, `/kernel`), so `a.b` and `a/b` stay apart: 100,000 keys make ~200,000 nodes of 16 bytes, where a node object with a Map of
 * children cost ~150. Children keep their insertion order, as the Map-based trie gave them.
 */
export class KeyTrie {
  readonly size: number;
  private readonly keys: string[];
  private readonly segIds = new Map<string, number>();
  private readonly segs: string[] = [];
  private seg = new Int32Array(64);
  private first = new Int32Array(64);
  private next = new Int32Array(64);
  /** Index into `keys` of the key ending at the node, or -1. */
  private keyAt = new Int32Array(64);
  private nodes = 0;
  /** Children by segment id, for nodes with many (a layer list of 1,000). */
  private readonly wide = new Map<number, Map<number, number>>();

  constructor(keys: Iterable<string>) {
    this.keys = Array.isArray(keys) ? keys as string[] : [...keys];
    const root = this.node(-1);
    const last: number[] = [-1];   // last child per node while building, for insertion order
    const count: number[] = [0];
    for (let k = 0; k < this.keys.length; k++) {
      let node = root;
      for (const { sep, text: t } of splitKey(this.keys[k])) {
        const text = sep + t;
        let id = this.segIds.get(text);
        if (id === undefined) {
          this.segIds.set(text, (id = this.segs.length));
          this.segs.push(text);
        }
        let child = this.child(node, id);
        if (child < 0) {
          child = this.node(id);
          last[child] = -1;
          count[child] = 0;
          if (last[node] < 0) this.first[node] = child;
          else this.next[last[node]] = child;
          last[node] = child;
          if (++count[node] === WIDE + 1) {
            const m = new Map<number, number>();
            for (let c = this.first[node]; c >= 0; c = this.next[c]) m.set(this.seg[c], c);
            this.wide.set(node, m);
          } else if (count[node] > WIDE + 1) {
            this.wide.get(node)!.set(id, child);
          }
        }
        node = child;
      }
      this.keyAt[node] = k;
    }
    this.size = this.keys.length;
    // Only what the walks need stays: the arrays trimmed to the nodes made.
    this.seg = this.seg.slice(0, this.nodes);
    this.first = this.first.slice(0, this.nodes);
    this.next = this.next.slice(0, this.nodes);
    this.keyAt = this.keyAt.slice(0, this.nodes);
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
          for (let c = this.first[node]; c >= 0; c = this.next[c]) if (captureValue(s, this.segs[this.seg[c]]) !== undefined) next.push(c);
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

  private node(seg: number): number {
    if (this.nodes === this.seg.length) {
      const grow = (a: Int32Array) => { const b = new Int32Array(a.length * 2); b.set(a); return b; };
      this.seg = grow(this.seg);
      this.first = grow(this.first);
      this.next = grow(this.next);
      this.keyAt = grow(this.keyAt);
    }
    const n = this.nodes++;
    this.seg[n] = seg;
    this.first[n] = -1;
    this.next[n] = -1;
    this.keyAt[n] = -1;
    return n;
  }

  private child(node: number, seg: number): number {
    const wide = this.wide.get(node);
    if (wide) return wide.get(seg) ?? -1;
    for (let c = this.first[node]; c >= 0; c = this.next[c]) if (this.seg[c] === seg) return c;
    return -1;
  }

  private childNamed(node: number, text: string): number {
    const id = this.segIds.get(text);
    return id === undefined ? -1 : this.child(node, id);
  }

  /** `at`: the characters of the key the walk has consumed down to `node`. */
  private walk(node: number, segs: readonly Segment[], i: number, at: number, bindings: Record<string, number>, out: Match[]): void {
    if (i === segs.length) {
      if (this.keyAt[node] >= 0) out.push({ key: this.keys[this.keyAt[node]], bindings: { ...bindings } });
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
      for (let c = this.first[node]; c >= 0; c = this.next[c]) {
        const label = this.segs[this.seg[c]];
        const v = captureValue(s, label);
        if (v === undefined) continue;
        bindings[s.name] = v;
        this.walk(c, segs, i + 1, at + label.length, bindings, out);
        delete bindings[s.name];
      }
    } else {
      // A trailing `*` matches one or more segments after its separator: every key strictly below this node.
      const found: string[] = [];
      for (let c = this.first[node]; c >= 0; c = this.next[c]) if (this.segs[this.seg[c]].startsWith(s.sep)) this.collect(c, found, Infinity);
      for (const key of found) out.push({ key, bindings: { ...bindings }, tail: key.slice(at + s.sep.length) });
    }
  }

  private collect(node: number, out: string[], limit: number): void {
    if (out.length >= limit) return;
    if (this.keyAt[node] >= 0) out.push(this.keys[this.keyAt[node]]);
    for (let c = this.first[node]; c >= 0; c = this.next[c]) {
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
