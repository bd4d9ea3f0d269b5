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

/**
 * Nodes are positions in typed arrays (segment id, parent, first child, next sibling, key index) and
 * segments are interned, each with the separator before it (`.layer`, `/kernel`), so `a.b` and `a/b`
 * stay apart. A child is found by one open-addressing table over (parent, segment), and a segment's id
 * by a hash over the key's characters, so building makes no string per segment: 100,000 keys build in
 * ~25 ms where splitting them into strings and Map lookups took ~80 (docs/benchmarks.md). Children keep
 * their insertion order.
 */
export class KeyTrie {
  readonly size: number;
  private readonly keys: string[];
  private readonly segs: string[] = [];
  /** Open addressing over segment texts: id + 1, 0 for empty. */
  private segSlots = new Int32Array(256);
  private seg = new Int32Array(64);
  private parent = new Int32Array(64);
  private first = new Int32Array(64);
  private next = new Int32Array(64);
  /** Index into `keys` of the key ending at the node, or -1. */
  private keyAt = new Int32Array(64);
  /** Open addressing over (parent, segment): child + 1, 0 for empty. */
  private childSlots = new Int32Array(256);
  private nodes = 0;

  constructor(keys: Iterable<string>) {
    this.keys = Array.isArray(keys) ? keys as string[] : [...keys];
    const root = this.node(-1, -1);
    let last = new Int32Array(64).fill(-1);   // last child per node while building, for insertion order
    // The previous key's path: a segment inside the prefix two keys share (their separator after it too) is
    // the same node, so sorted keys (`…layer.7.x`, `…layer.7.y`) look up only what differs.
    const path: number[] = [];
    let prev = '';
    for (let k = 0; k < this.keys.length; k++) {
      const key = this.keys[k];
      let same = 0;
      const most = Math.min(key.length, prev.length);
      while (same < most && key.charCodeAt(same) === prev.charCodeAt(same)) same++;
      let node = root, depth = 0;
      // splitKey's rule, over character ranges: `.` and `/` separate, but a `.` opening a segment after `/` is text.
      let sep = 0, start = 0;
      for (let i = 0; i <= key.length; i++) {
        const c = i < key.length ? key.charCodeAt(i) : -1;
        if (c >= 0 && c !== 47 && !(c === 46 && !(sep === 47 && i === start))) continue;
        let child: number;
        if (i < same) {
          child = path[depth];
        } else {
          const id = this.internRange(key, sep, start, i);
          child = this.child(node, id);
          if (child < 0) {
            child = this.node(id, node);
            if (child === last.length) {
              const grown = new Int32Array(last.length * 2).fill(-1);
              grown.set(last);
              last = grown;
            }
            if (last[node] < 0) this.first[node] = child;
            else this.next[last[node]] = child;
            last[node] = child;
            this.placeChild(child);
          }
          path[depth] = child;
        }
        node = child;
        depth++;
        sep = c;
        start = i + 1;
      }
      this.keyAt[node] = k;
      prev = key;
    }
    this.size = this.keys.length;
    // Only what the walks need stays: the arrays trimmed to the nodes made, the child table to a load
    // of at most 0.8 (the build kept it at 0.5 for its inserts; a walk's lookups mostly hit).
    let size = 256;
    while (size * 0.8 < this.nodes) size *= 2;
    if (size < this.childSlots.length) {
      this.childSlots = new Int32Array(size);
      for (let c = 1; c < this.nodes; c++) this.placeChild(c);
    }
    this.seg = this.seg.slice(0, this.nodes);
    this.parent = this.parent.slice(0, this.nodes);
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

  private node(seg: number, parent: number): number {
    if (this.nodes === this.seg.length) {
      const grow = (a: Int32Array) => { const b = new Int32Array(a.length * 2); b.set(a); return b; };
      this.seg = grow(this.seg);
      this.parent = grow(this.parent);
      this.first = grow(this.first);
      this.next = grow(this.next);
      this.keyAt = grow(this.keyAt);
    }
    const n = this.nodes++;
    this.seg[n] = seg;
    this.parent[n] = parent;
    this.first[n] = -1;
    this.next[n] = -1;
    this.keyAt[n] = -1;
    if (this.nodes * 2 > this.childSlots.length) this.rehashChildren();
    return n;
  }

  private child(node: number, seg: number): number {
    const mask = this.childSlots.length - 1;
    for (let h = pairHash(node, seg) & mask; ; h = (h + 1) & mask) {
      const c = this.childSlots[h] - 1;
      if (c < 0) return -1;
      if (this.seg[c] === seg && this.parent[c] === node) return c;
    }
  }

  private placeChild(c: number): void {
    const mask = this.childSlots.length - 1;
    let h = pairHash(this.parent[c], this.seg[c]) & mask;
    while (this.childSlots[h] !== 0) h = (h + 1) & mask;
    this.childSlots[h] = c + 1;
  }

  private rehashChildren(): void {
    this.childSlots = new Int32Array(this.childSlots.length * 2);
    for (let c = 1; c < this.nodes; c++) this.placeChild(c);
  }

  /** The id of the segment `sep` + key[start, end), made if new; the text is sliced only then. */
  private internRange(key: string, sep: number, start: number, end: number): number {
    let h = sep > 0 ? Math.imul(0x811c9dc5 ^ sep, 0x01000193) : 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    const mask = this.segSlots.length - 1;
    const lead = sep > 0 ? 1 : 0;
    for (let at = (h >>> 0) & mask; ; at = (at + 1) & mask) {
      const id = this.segSlots[at] - 1;
      if (id < 0) {
        const text = (sep > 0 ? String.fromCharCode(sep) : '') + key.slice(start, end);
        return this.addSegment(text, at);
      }
      if (sameText(this.segs[id], lead, sep, key, start, end)) return id;
    }
  }

  private addSegment(text: string, at: number): number {
    const id = this.segs.length;
    this.segs.push(text);
    this.segSlots[at] = id + 1;
    if (this.segs.length * 2 > this.segSlots.length) {
      this.segSlots = new Int32Array(this.segSlots.length * 2);
      for (let i = 0; i < this.segs.length; i++) this.placeSegment(i);
    }
    return id;
  }

  private placeSegment(id: number): void {
    const t = this.segs[id];
    const mask = this.segSlots.length - 1;
    let at = textHash(t) & mask;
    while (this.segSlots[at] !== 0) at = (at + 1) & mask;
    this.segSlots[at] = id + 1;
  }

  private childNamed(node: number, text: string): number {
    const mask = this.segSlots.length - 1;
    for (let at = textHash(text) & mask; ; at = (at + 1) & mask) {
      const id = this.segSlots[at] - 1;
      if (id < 0) return -1;
      if (this.segs[id] === text) return this.child(node, id);
    }
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

/** FNV-1a over a segment's text, separator included: what internRange computes over a key's range. */
function textHash(t: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Whether `t` is the separator `sep` (when `lead`) followed by key[start, end). */
function sameText(t: string, lead: number, sep: number, key: string, start: number, end: number): boolean {
  if (t.length !== end - start + lead || (lead === 1 && t.charCodeAt(0) !== sep)) return false;
  for (let i = start, j = lead; i < end; i++, j++) if (t.charCodeAt(j) !== key.charCodeAt(i)) return false;
  return true;
}

function pairHash(parent: number, seg: number): number {
  return (Math.imul(parent, 0x9e3779b1) ^ Math.imul(seg + 1, 0x85ebca6b)) >>> 0;
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
