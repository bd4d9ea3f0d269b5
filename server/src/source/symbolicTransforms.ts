/**
 * The mapping transforms (tpmap.md) over shapes whose dimensions may be symbolic, for unification
 * only: what `transpose`, `permute`, `squeeze`, `unsqueeze`, `chunk`, `cat`, `cast` and `reshape` do
 * to `[embed_dim*3, embed_dim]`. A step that cannot be followed ends the trace (undefined); the
 * analysis proper checks the same rule again on concrete shapes and reports what is wrong.
 */
import { Dim, opDim } from './dims';

export interface TransformLike { name: { text: string }; args: { value?: number }[] }

export function traceSymbolic(transforms: readonly TransformLike[], inputs: Dim[][]): Dim[] | undefined {
  let xs = inputs;
  for (const t of transforms) {
    const ints = t.args.map((a) => a.value);
    if (ints.some((v) => v === undefined) && t.name.text !== 'cast') return undefined;
    const n = ints as number[];
    const each = (f: (s: Dim[]) => Dim[] | undefined): Dim[][] | undefined => {
      const out: Dim[][] = [];
      for (const s of xs) { const r = f(s); if (!r) return undefined; out.push(r); }
      return out;
    };
    const at = (d: number, rank: number) => (d < 0 ? d + rank : d);
    let next: Dim[][] | undefined;
    switch (t.name.text) {
      case 'transpose': next = each((s) => (s.length === 2 ? [s[1], s[0]] : undefined)); break;
      case 'permute': next = each((s) => (n.length === s.length ? n.map((d) => s[at(d, s.length)]) : undefined)); break;
      case 'squeeze': next = each((s) => s.filter((_, i) => i !== at(n[0], s.length))); break;
      case 'unsqueeze': next = each((s) => { const o = [...s]; o.splice(at(n[0], s.length + 1), 0, 1); return o; }); break;
      case 'cast': next = xs; break;
      case 'chunk': next = each((s) => { const o = [...s]; const d = at(n[2] ?? 0, s.length); o[d] = opDim('//', s[d], n[0]); return o; }); break;
      case 'reshape': next = n.includes(-1) ? undefined : xs.map(() => [...n]); break;
      case 'cat': {
        if (xs.length < 2) return undefined;
        const d = at(n[0], xs[0].length);
        const o = [...xs[0]];
        o[d] = xs.slice(1).reduce<Dim>((a, s) => opDim('+', a, s[d]), xs[0][d]);
        next = [o];
        break;
      }
      default: return undefined;
    }
    if (!next) return undefined;
    xs = next;
  }
  return xs.length === 1 ? xs[0] : undefined;
}
