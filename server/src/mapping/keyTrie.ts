/**
 * The keys of one side as a trie of segments (split at `.` and `/`, keySegments.ts). Patterns (`{i}`
 * captures, a trailing `*`) are matched by walking it, so a 5,000-rule mapping over 100,000 keys costs a
 * walk per rule rather than a scan of every key.
 */
import { splitKey } from './keySegments';
import { Segment } from './syntax';

interface Node {
  /** By the segment with the separator before it (`.layer`, `/kernel`), so `a.b` and `a/b` stay apart. */
  children: Map<string, Node>;
  /** The full key when a key ends at this node. */
  key?: string;
}

export interface Match {
  key: string;
  bindings: Record<string, number>;
  /** The part matched by a trailing `*`. */
  tail?: string;
}

export class KeyTrie {
  private readonly root: Node = { children: new Map() };
  readonly size: number;

  constructor(keys: Iterable<string>) {
    let n = 0;
    for (const key of keys) {
      let node = this.root;
      for (const { sep, text } of splitKey(key)) {
        const label = sep + text;
        let next = node.children.get(label);
        if (!next) node.children.set(label, (next = { children: new Map() }));
        node = next;
      }
      node.key = key;
      n++;
    }
    this.size = n;
  }

  match(segments: readonly Segment[]): Match[] {
    const out: Match[] = [];
    this.walk(this.root, segments, 0, 0, {}, out);
    return out;
  }

  /**
   * Keys near a pattern, for suggestions: under the deepest node its leading literal segments reach
   * (a capture walks into every numbered child), backing off to ancestors until there are `want` keys.
   */
  keysNear(segments: readonly Segment[], want: number, limit: number): string[] {
    const path: Node[][] = [[this.root]];
    for (const s of segments) {
      const level = path[path.length - 1];
      const next: Node[] = [];
      for (const node of level) {
        if (s.kind === 'literal') {
          const c = node.children.get(s.sep + s.text);
          if (c) next.push(c);
        } else if (s.kind === 'capture') {
          for (const [label, c] of node.children) if (captureValue(s, label) !== undefined) next.push(c);
        }
      }
      if (next.length === 0) break;
      path.push(next);
    }
    for (let depth = path.length - 1; depth >= 0; depth--) {
      const out: string[] = [];
      for (const node of path[depth]) collect(node, out, limit);
      if (out.length >= want || depth === 0) return out;
    }
    return [];
  }

  /** Keys starting with `prefix`, which ends at a segment boundary (`a.b.`, `a/b/`) or is empty. */
  keysWithPrefix(prefix: string, limit: number): string[] {
    let node: Node | undefined = this.root;
    for (const { sep, text } of splitKey(prefix).slice(0, -1)) {
      node = node.children.get(sep + text);
      if (!node) return [];
    }
    const out: string[] = [];
    collect(node, out, limit);
    return out;
  }

  /** `at`: the characters of the key the walk has consumed down to `node`. */
  private walk(node: Node, segs: readonly Segment[], i: number, at: number, bindings: Record<string, number>, out: Match[]): void {
    if (i === segs.length) {
      if (node.key !== undefined) out.push({ key: node.key, bindings: { ...bindings } });
      return;
    }
    const s = segs[i];
    if (s.kind === 'literal') {
      const label = s.sep + s.text;
      const next = node.children.get(label);
      if (next) this.walk(next, segs, i + 1, at + label.length, bindings, out);
    } else if (s.kind === 'capture') {
      const bound = bindings[s.name];
      if (bound !== undefined) {
        const label = s.sep + captureText(s, bound);
        const next = node.children.get(label);
        if (next) this.walk(next, segs, i + 1, at + label.length, bindings, out);
        return;
      }
      for (const [label, next] of node.children) {
        const v = captureValue(s, label);
        if (v === undefined) continue;
        bindings[s.name] = v;
        this.walk(next, segs, i + 1, at + label.length, bindings, out);
        delete bindings[s.name];
      }
    } else {
      // A trailing `*` matches one or more segments after its separator: every key strictly below this node.
      const found: string[] = [];
      for (const [label, child] of node.children) if (label.startsWith(s.sep)) collect(child, found, Infinity);
      for (const key of found) out.push({ key, bindings: { ...bindings }, tail: key.slice(at + s.sep.length) });
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

function collect(node: Node, out: string[], limit: number): void {
  if (out.length >= limit) return;
  if (node.key !== undefined) out.push(node.key);
  for (const child of node.children.values()) {
    if (out.length >= limit) return;
    collect(child, out, limit);
  }
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
