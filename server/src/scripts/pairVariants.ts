/**
 * A pair as the checkpoints would see it: its source and target keys (the script's order setting
 * applied), once as written and once after a list rewrite of its group (pyBranches.ts) where one
 * follows it — and whether each key exists on its side.
 */
import { SideData } from '../mapping/sideData';
import { splitKey } from '../mapping/keySegments';
import { Segment } from '../mapping/syntax';
import { BranchState, decideBranches } from './branchDecision';
import { GroupRewrite, KeyLiteral, KeyPair, ScriptScan } from './keyLiterals';

/** `fits`: both keys exist; `half`: one does; `absent`: neither (or a side could not be read). */
export type PairStatus = 'fits' | 'half' | 'absent';

export interface Variant { src: KeyLiteral; tgt: KeyLiteral; status: PairStatus }

export interface Candidate {
  pair: KeyPair;
  /** As written; then rewritten, where a rewrite follows the pair. */
  variants: Variant[];
  /** Whether the rewrite's own branch is taken (filled in once the branches are decided). */
  rewrite?: BranchState;
  rewriteOf?: GroupRewrite;
}

export function segmentsOf(pattern: string): Segment[] {
  return splitKey(pattern).map(({ sep, text }) => (/^\{\w+\}$/.test(text) ? { kind: 'capture', sep, name: text.slice(1, -1) } : { kind: 'literal', sep, text }));
}

const exists = (side: SideData | undefined, pattern: string) => !!side && side.trie.match(segmentsOf(pattern)).length > 0;

/**
 * Both keys exist — and, where the script copies the tensor as it is (or transposed), their shapes
 * agree: a branch written for unsharded checkpoints does not fit one shard of a sharded one.
 */
function status(pair: KeyPair, src: KeyLiteral, tgt: KeyLiteral, srcSide?: SideData, tgtSide?: SideData): PairStatus {
  const a = exists(srcSide, src.pattern);
  const b = exists(tgtSide, tgt.pattern);
  if (!(a && b)) return a || b ? 'half' : 'absent';
  return pair.transposition === 'opaque' || shapesAgree(pair.transposition === 'yes', src.pattern, tgt.pattern, srcSide!, tgtSide!) ? 'fits' : 'half';
}

function shapesAgree(transposed: boolean, src: string, tgt: string, srcSide: SideData, tgtSide: SideData): boolean {
  const m = srcSide.trie.match(segmentsOf(src))[0];
  const a = srcSide.tensors.get(m.key)?.shape;
  const b = tgtSide.tensors.get(tgt.replace(/\{(\w+)\}/g, (x, name: string) => (m.bindings[name] === undefined ? x : String(m.bindings[name]))))?.shape;
  if (!a || !b) return true;
  const out = transposed && a.length === 2 ? [a[1], a[0]] : a;
  // Equal element counts may be an intended reshape (`[None]`, a squeezed conv): only a different size rules the branch out.
  return out.join() === b.join() || a.reduce((x, y) => x * y, 1) === b.reduce((x, y) => x * y, 1);
}

export function variants(pair: KeyPair, scan: ScriptScan, sourceFirst: boolean, srcSide?: SideData, tgtSide?: SideData): Candidate {
  const orient = (first: KeyLiteral, second: KeyLiteral) => (sourceFirst ? { src: first, tgt: second } : { src: second, tgt: first });
  const plain = orient(pair.first, pair.second);
  const out: Candidate = { pair, variants: [{ ...plain, status: status(pair, plain.src, plain.tgt, srcSide, tgtSide) }] };
  const rw = scan.rewrites?.find((r) => r.group === pair.group && pair.pos.line < r.line);
  if (rw) {
    const els = [pair.first, pair.second];
    const e = els[rw.element];
    if (e.pattern.startsWith(rw.prefix) && e.pattern.length > rw.strip) {
      els[rw.element] = { ...e, pattern: e.pattern.slice(rw.strip) };
      const r = orient(els[0], els[1]);
      out.variants.push({ ...r, status: status(pair, r.src, r.tgt, srcSide, tgtSide) });
      out.rewriteOf = rw;
    }
  }
  return out;
}

/** The rewrites' own branch states, once the pairs' branches are decided. */
export function settleRewrites(cands: Candidate[], state: ReturnType<typeof decideBranches>): void {
  for (const c of cands) if (c.rewriteOf) c.rewrite = state(c.rewriteOf.conditions);
}
