/**
 * The structure of a key trie as typed arrays and the segment texts, built from key strings or straight
 * from a key arena (a read worker's columns, with no string per key), and sent between threads as is.
 * Keys split into segments at `.` and `/` as keySegments.ts says (a `.` opening a segment after `/` is
 * text); a segment is interned with the separator before it (`.layer`, `/kernel`), so `a.b` and `a/b`
 * stay apart. A node is a position: segment id, parent, first child, next sibling, and the index of the
 * key ending there. A child is found by one open-addressing table over (parent, segment), a segment's id
 * by a hash over the key's characters: building makes no string per segment. Children keep their
 * insertion order. The matching walks are mapping/keyTrie.ts.
 */
import { keyHash, type TableIndex } from '../formats/tableIndex';
import type { TensorTable } from '../formats/tensorTable';

export interface TrieData {
  /** Keys inserted. */
  size: number;
  nodes: number;
  segs: string[];
  /** Open addressing over segment texts: id + 1, 0 for empty. */
  segSlots: Int32Array;
  seg: Int32Array;
  parent: Int32Array;
  first: Int32Array;
  next: Int32Array;
  /** The index of the key ending at the node (what the builder was given), or -1. */
  keyAt: Int32Array;
  /** Open addressing over (parent, segment): child + 1, 0 for empty. */
  childSlots: Int32Array;
}

/** The arrays to transfer with postMessage. */
export function trieBuffers(t: TrieData): ArrayBuffer[] {
  return [t.segSlots, t.seg, t.parent, t.first, t.next, t.keyAt, t.childSlots].map((a) => a.buffer as ArrayBuffer);
}

export class TrieBuilder {
  private readonly t: TrieData;
  /** Last child per node while building, for insertion order. */
  private last: Int32Array;
  /** The previous key's path: a segment inside the prefix two keys share is the same node. */
  private readonly path: number[] = [];
  private prev = '';
  private prevStart = 0;
  private prevEnd = 0;

  /**
   * `expected`: how many keys will be added. The arrays start at two nodes a key and the child table at a
   * load of 0.8 for them (a 100,000-key side makes ~201,000 nodes; 2.25 a key are made room for), so a build neither grows nor rehashes
   * them in the common case: growing and rehashing were a third of a cold build.
   */
  constructor(expected = 0) {
    const nodes = Math.max(64, Math.ceil(2.25 * expected));
    let slots = 256;
    while (slots * 0.8 < nodes) slots *= 2;
    this.t = {
      size: 0, nodes: 0, segs: [], segSlots: new Int32Array(256), seg: new Int32Array(nodes), parent: new Int32Array(nodes),
      first: new Int32Array(nodes), next: new Int32Array(nodes), keyAt: new Int32Array(nodes), childSlots: new Int32Array(slots),
    };
    this.last = new Int32Array(nodes).fill(-1);
    this.node(-1, -1);
  }

  /** Inserts `text[start, end)` as key number `index`. Sorted keys (`…layer.7.x`, `…layer.7.y`) look up only what differs. */
  add(text: string, start: number, end: number, index: number): void {
    let same = 0;
    const most = Math.min(end - start, this.prevEnd - this.prevStart);
    while (same < most && text.charCodeAt(start + same) === this.prev.charCodeAt(this.prevStart + same)) same++;
    const t = this.t;
    let node = 0, depth = 0, sep = 0, from = start;
    for (let i = start; i <= end; i++) {
      const c = i < end ? text.charCodeAt(i) : -1;
      if (c >= 0 && c !== 47 && !(c === 46 && !(sep === 47 && i === from))) continue;
      let child: number;
      if (i - start < same) {
        child = this.path[depth];
      } else {
        const id = this.intern(text, sep, from, i);
        child = this.child(node, id);
        if (child < 0) {
          child = this.node(id, node);
          if (this.last[node] < 0) t.first[node] = child;
          else t.next[this.last[node]] = child;
          this.last[node] = child;
          this.placeChild(child);
        }
        this.path[depth] = child;
      }
      node = child;
      depth++;
      sep = c;
      from = i + 1;
    }
    t.keyAt[node] = index;
    t.size++;
    this.prev = text;
    this.prevStart = start;
    this.prevEnd = end;
  }

  /** The arrays trimmed to the nodes made (the child table is kept at a load of at most 0.8 throughout). */
  finish(): TrieData {
    const t = this.t;
    for (const k of ['seg', 'parent', 'first', 'next', 'keyAt'] as const) if (t[k].length > t.nodes) t[k] = t[k].slice(0, t.nodes);
    this.last = new Int32Array(0);
    return t;
  }

  private node(seg: number, parent: number): number {
    const t = this.t;
    if (t.nodes === t.seg.length) {
      const grow = (a: Int32Array, fill = 0) => { const b = new Int32Array(a.length * 2).fill(fill); b.set(a); return b; };
      t.seg = grow(t.seg);
      t.parent = grow(t.parent);
      t.first = grow(t.first);
      t.next = grow(t.next);
      t.keyAt = grow(t.keyAt);
      this.last = grow(this.last, -1);
    }
    const n = t.nodes++;
    t.seg[n] = seg;
    t.parent[n] = parent;
    t.first[n] = -1;
    t.next[n] = -1;
    t.keyAt[n] = -1;
    if (t.nodes > t.childSlots.length * 0.8) {
      t.childSlots = new Int32Array(t.childSlots.length * 2);
      for (let c = 1; c < t.nodes; c++) this.placeChild(c);
    }
    return n;
  }

  private child(node: number, seg: number): number {
    return childOf(this.t, node, seg);
  }

  private placeChild(c: number): void {
    const t = this.t;
    const mask = t.childSlots.length - 1;
    let h = pairHash(t.parent[c], t.seg[c]) & mask;
    while (t.childSlots[h] !== 0) h = (h + 1) & mask;
    t.childSlots[h] = c + 1;
  }

  /** The id of the segment `sep` + text[start, end), made if new; the text is sliced only then. */
  private intern(text: string, sep: number, start: number, end: number): number {
    const t = this.t;
    // textHash of the separator followed by the range, without making that string.
    const h = keyHash(text, start, end, sep > 0 ? Math.imul(0x811c9dc5 ^ sep, 0x01000193) : 0x811c9dc5) & 0x3fffffff;
    const mask = t.segSlots.length - 1;
    const lead = sep > 0 ? 1 : 0;
    for (let at = h & mask; ; at = (at + 1) & mask) {
      const id = t.segSlots[at] - 1;
      if (id < 0) return this.addSegment((sep > 0 ? String.fromCharCode(sep) : '') + text.slice(start, end), at);
      if (sameText(t.segs[id], lead, sep, text, start, end)) return id;
    }
  }

  private addSegment(text: string, at: number): number {
    const t = this.t;
    const id = t.segs.length;
    t.segs.push(text);
    t.segSlots[at] = id + 1;
    if (t.segs.length * 2 > t.segSlots.length) {
      t.segSlots = new Int32Array(t.segSlots.length * 2);
      const mask = t.segSlots.length - 1;
      for (let i = 0; i < t.segs.length; i++) {
        let a = textHash(t.segs[i]) & mask;
        while (t.segSlots[a] !== 0) a = (a + 1) & mask;
        t.segSlots[a] = i + 1;
      }
    }
    return id;
  }
}

/** The child of `node` with segment id `seg`, or -1. */
export function childOf(t: TrieData, node: number, seg: number): number {
  const mask = t.childSlots.length - 1;
  for (let h = pairHash(node, seg) & mask; ; h = (h + 1) & mask) {
    const c = t.childSlots[h] - 1;
    if (c < 0) return -1;
    if (t.seg[c] === seg && t.parent[c] === node) return c;
  }
}

/** The id of a segment's text (separator included), or -1. */
export function segmentId(t: TrieData, text: string): number {
  const mask = t.segSlots.length - 1;
  for (let at = textHash(text) & mask; ; at = (at + 1) & mask) {
    const id = t.segSlots[at] - 1;
    if (id < 0) return -1;
    if (t.segs[id] === text) return id;
  }
}

/** keyHash of a segment's text, separator included, kept to 30 bits (a small integer, not a heap number). */
function textHash(s: string): number {
  return keyHash(s, 0, s.length) & 0x3fffffff;
}

/** Whether `t` is the separator `sep` (when `lead`) followed by text[start, end). */
function sameText(t: string, lead: number, sep: number, text: string, start: number, end: number): boolean {
  if (t.length !== end - start + lead || (lead === 1 && t.charCodeAt(0) !== sep)) return false;
  for (let i = start, j = lead; i < end; i++, j++) if (t.charCodeAt(j) !== text.charCodeAt(i)) return false;
  return true;
}

function pairHash(parent: number, seg: number): number {
  return (Math.imul(parent, 0x9e3779b1) ^ Math.imul(seg + 1, 0x85ebca6b)) & 0x3fffffff;
}

/**
 * The trie of a table's keys, read from its key arena (no string per key), each key's index its position;
 * positions a later duplicate shadows are left out, as the side's map leaves them out.
 */
export function tableTrie(table: TensorTable, index: TableIndex): TrieData {
  const b = new TrieBuilder(table.count);
  const shadowed = new Set(index.shadowed);
  for (let i = 0; i < table.count; i++) {
    if (!shadowed.has(i)) b.add(table.keys, i === 0 ? 0 : table.keyEnds[i - 1], table.keyEnds[i], i);
  }
  return b.finish();
}
