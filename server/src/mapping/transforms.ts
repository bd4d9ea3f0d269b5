/**
 * What each transform does to a tensor's shape and dtype (the table of tpmap.md), computed without
 * data. A rule's sources flow through its transforms left to right; before `cat` they are a list and
 * each transform applies to every element.
 */
import { table } from '../formats/table';
import { Transform } from './syntax';

export interface TensorType { shape: number[]; dtype: string }

export const CAST_DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'];

/** Signatures shown by completion and hover. */
export const TRANSFORM_DOCS: Record<string, { signature: string; doc: string }> = table({
  transpose: { signature: 'transpose', doc: 'Swaps the two dimensions of a 2-D tensor: torch `nn.Linear` `[out, in]` ↔ Paddle/JAX/Conv1D `[in, out]`.' },
  permute: { signature: 'permute(d0, d1, …)', doc: 'Reorders dimensions, e.g. conv `OIHW` → `HWIO` is `permute(2, 3, 1, 0)`.' },
  reshape: { signature: 'reshape(d0, d1, …)', doc: 'A new shape with the same element count; one `-1` is inferred.' },
  squeeze: { signature: 'squeeze(d)', doc: 'Removes dimension `d`, which must have size 1 (`cls_token [1, 1, 768]` → `squeeze(0)`).' },
  unsqueeze: { signature: 'unsqueeze(d)', doc: 'Inserts a dimension of size 1 at `d`.' },
  chunk: { signature: 'chunk(n, k[, dim])', doc: 'The k-th (0-based) of n equal parts along `dim` (default 0): splitting a fused qkv.' },
  cat: { signature: 'cat(dim)', doc: 'Concatenates the bracketed source list along `dim`: fusing q/k/v into one tensor.' },
  cast: { signature: 'cast(DTYPE)', doc: `Converts the element type: ${CAST_DTYPES.join(' ')}.` },
});

export type Step = { ok: true; types: TensorType[] } | { ok: false; message: string; arity?: boolean };

export function applyTransform(t: Transform, input: TensorType[]): Step {
  const name = t.name.text;
  const ints = t.args.map((a) => a.value);
  const needInts = (min: number, max: number): string | undefined => {
    if (t.args.length < min || t.args.length > max) return `\`${TRANSFORM_DOCS[name]?.signature ?? name}\` takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, got ${t.args.length}`;
    const bad = t.args.find((a) => a.value === undefined);
    return bad ? `\`${name}\`: \`${bad.text}\` is not an integer` : undefined;
  };
  const each = (f: (x: TensorType) => TensorType | string): Step => {
    const out: TensorType[] = [];
    for (const x of input) {
      const r = f(x);
      if (typeof r === 'string') return { ok: false, message: r };
      out.push(r);
    }
    return { ok: true, types: out };
  };
  const dim = (d: number, rank: number) => (d < 0 ? d + rank : d);

  switch (name) {
    case 'transpose': {
      if (t.args.length) return { ok: false, message: '`transpose` takes no arguments (use `permute` for other orders)', arity: true };
      return each((x) => (x.shape.length === 2 ? { ...x, shape: [x.shape[1], x.shape[0]] } : `\`transpose\` needs a 2-D tensor, got [${x.shape.join(', ')}]`));
    }
    case 'permute': {
      const err = needInts(1, 8);
      if (err) return { ok: false, message: err, arity: true };
      return each((x) => {
        const perm = ints.map((d) => dim(d!, x.shape.length));
        const sorted = [...perm].sort((a, b) => a - b);
        if (perm.length !== x.shape.length || sorted.some((d, i) => d !== i)) return `\`permute(${ints.join(', ')})\` is not a permutation of the ${x.shape.length} dimensions of [${x.shape.join(', ')}]`;
        return { ...x, shape: perm.map((d) => x.shape[d]) };
      });
    }
    case 'reshape': {
      const err = needInts(1, 8);
      if (err) return { ok: false, message: err, arity: true };
      return each((x) => {
        const total = x.shape.reduce((a, b) => a * b, 1);
        const infer = ints.filter((d) => d === -1).length;
        if (infer > 1 || ints.some((d) => d! < -1)) return '`reshape` allows one `-1` and otherwise sizes ≥ 0';
        const known = ints.reduce<number>((a, b) => (b === -1 ? a : a * b!), 1);
        const shape = ints.map((d) => (d === -1 ? (known ? total / known : NaN) : d!));
        if (shape.some((d) => !Number.isInteger(d)) || shape.reduce((a, b) => a * b, 1) !== total) {
          return `\`reshape(${ints.join(', ')})\` cannot hold the ${total} elements of [${x.shape.join(', ')}]`;
        }
        return { ...x, shape };
      });
    }
    case 'squeeze': {
      const err = needInts(1, 1);
      if (err) return { ok: false, message: err, arity: true };
      return each((x) => {
        const d = dim(ints[0]!, x.shape.length);
        if (d < 0 || d >= x.shape.length) return `\`squeeze(${ints[0]})\`: [${x.shape.join(', ')}] has no dimension ${ints[0]}`;
        if (x.shape[d] !== 1) return `\`squeeze(${ints[0]})\`: dimension ${ints[0]} of [${x.shape.join(', ')}] has size ${x.shape[d]}, not 1`;
        return { ...x, shape: x.shape.filter((_, i) => i !== d) };
      });
    }
    case 'unsqueeze': {
      const err = needInts(1, 1);
      if (err) return { ok: false, message: err, arity: true };
      return each((x) => {
        const d = dim(ints[0]!, x.shape.length + 1);
        if (d < 0 || d > x.shape.length) return `\`unsqueeze(${ints[0]})\`: out of range for [${x.shape.join(', ')}]`;
        const shape = [...x.shape];
        shape.splice(d, 0, 1);
        return { ...x, shape };
      });
    }
    case 'chunk': {
      const err = needInts(2, 3);
      if (err) return { ok: false, message: err, arity: true };
      const [n, k, d0 = 0] = ints as number[];
      if (n < 1 || k < 0 || k >= n) return { ok: false, message: `\`chunk(${ints.join(', ')})\`: part ${k} of ${n} does not exist` };
      return each((x) => {
        const d = dim(d0, x.shape.length);
        if (d < 0 || d >= x.shape.length) return `\`chunk\`: [${x.shape.join(', ')}] has no dimension ${d0}`;
        if (x.shape[d] % n !== 0) return `\`chunk(${ints.join(', ')})\`: dimension ${d0} of [${x.shape.join(', ')}] does not split into ${n} equal parts`;
        const shape = [...x.shape];
        shape[d] = x.shape[d] / n;
        return { ...x, shape };
      });
    }
    case 'cat': {
      const err = needInts(1, 1);
      if (err) return { ok: false, message: err, arity: true };
      if (input.length < 2) return { ok: false, message: '`cat` needs a bracketed list of two or more source keys' };
      const rank = input[0].shape.length;
      const d = dim(ints[0]!, rank);
      if (d < 0 || d >= rank) return { ok: false, message: `\`cat(${ints[0]})\`: [${input[0].shape.join(', ')}] has no dimension ${ints[0]}` };
      for (const x of input) {
        if (x.shape.length !== rank || x.shape.some((s, i) => i !== d && s !== input[0].shape[i])) {
          return { ok: false, message: `\`cat(${ints[0]})\`: [${x.shape.join(', ')}] and [${input[0].shape.join(', ')}] differ outside dimension ${ints[0]}` };
        }
        if (x.dtype !== input[0].dtype) return { ok: false, message: `\`cat\`: the sources mix ${input[0].dtype} and ${x.dtype}` };
      }
      const shape = [...input[0].shape];
      shape[d] = input.reduce((a, x) => a + x.shape[d], 0);
      return { ok: true, types: [{ dtype: input[0].dtype, shape }] };
    }
    case 'cast': {
      if (t.args.length !== 1) return { ok: false, message: '`cast(DTYPE)` takes one dtype', arity: true };
      const to = t.args[0].text.toUpperCase();
      if (!CAST_DTYPES.includes(to)) return { ok: false, message: `\`cast(${t.args[0].text})\`: expected one of ${CAST_DTYPES.join(' ')}`, arity: true };
      return each((x) => ({ ...x, dtype: to }));
    }
    default:
      return { ok: false, message: `unknown transform \`${name}\``, arity: true };
  }
}
