/**
 * The keys of one side as a trie of dot-separated segments. Patterns (`{i}` captures, a trailing `*`)
 * are matched by walking it, so a 5,000-rule mapping over 100,000 keys costs a walk per rule rather
 * than a scan of every key.
 */
import { Segment } from './syntax';

interface Node {
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
      for (const seg of key.split('.')) {
        let next = node.children.get(seg);
        if (!next) node.children.set(seg, (next = { children: new Map() }));
        node = next;
      }
      node.key = key;
      n++;
    }
    this.size = n;
  }

  match(segments: readonly Segment[]): Match[] {
    const out: Match[] = [];
    this.walk(this.root, segments, 0, {}, out);
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
          const c = node.children.get(s.text);
          if (c) next.push(c);
        } else if (s.kind === 'capture') {
          for (const [text, c] of node.children) if (/^\d+$/.test(text)) next.push(c);
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

  /** Keys starting with `prefix`, which ends at a segment boundary (`a.b.`) or is empty. */
  keysWithPrefix(prefix: string, limit: number): string[] {
    let node: Node | undefined = this.root;
    for (const seg of prefix.split('.').slice(0, -1)) {
      node = node.children.get(seg);
      if (!node) return [];
    }
    const out: string[] = [];
    collect(node, out, limit);
    return out;
  }

  private walk(node: Node, segs: readonly Segment[], i: number, bindings: Record<string, number>, out: Match[]): void {
    if (i === segs.length) {
      if (node.key !== undefined) out.push({ key: node.key, bindings: { ...bindings } });
      return;
    }
    const s = segs[i];
    if (s.kind === 'literal') {
      const next = node.children.get(s.text);
      if (next) this.walk(next, segs, i + 1, bindings, out);
    } else if (s.kind === 'capture') {
      const bound = bindings[s.name];
      if (bound !== undefined) {
        const next = node.children.get(String(bound));
        if (next) this.walk(next, segs, i + 1, bindings, out);
        return;
      }
      for (const [text, next] of node.children) {
        if (!/^(0|[1-9]\d*)$/.test(text)) continue;
        bindings[s.name] = Number(text);
        this.walk(next, segs, i + 1, bindings, out);
        delete bindings[s.name];
      }
    } else {
      // A trailing `*` matches one or more segments: every key strictly below this node.
      const found: string[] = [];
      for (const child of node.children.values()) collect(child, found, Infinity);
      for (const key of found) out.push({ key, bindings: { ...bindings }, tail: key.split('.').slice(i).join('.') });
    }
  }
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
  const parts: string[] = [];
  for (const s of segments) {
    if (s.kind === 'literal') parts.push(s.text);
    else if (s.kind === 'capture') {
      const v = bindings[s.name];
      if (v === undefined) return undefined;
      parts.push(String(v));
    } else {
      if (tail === undefined) return undefined;
      parts.push(tail);
    }
  }
  return parts.join('.');
}

export function captureNames(segments: readonly Segment[]): string[] {
  return segments.flatMap((s) => (s.kind === 'capture' ? [s.name] : []));
}
