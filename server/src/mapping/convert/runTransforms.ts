/**
 * A rule's transforms on tensor data, left to right, with the same meaning transforms.ts gives their
 * shapes (its `applyTransform` validates each step and states the expected result, which every data
 * step is checked against). Layout steps stay views; `cat`, `cast` and the reshape of a strided view
 * need the bytes and read them then.
 */
import { DTYPE_SIZE, isContiguous, numel } from '../../formats/tensorInfo';
import { Transform } from '../syntax';
import { TensorType, applyTransform } from '../transforms';
import { castData } from './cast';
import { ConvertError } from './errors';
import { View, chunk, memoryView, permute, reshapeContiguous, squeeze, unsqueeze } from './view';

export interface TensorIO {
  /** A view's data, contiguous; `what` names the tensor being made, for error messages. */
  materialize(v: View, what: string): Promise<Buffer>;
  /** Scratch for results that overwrite every byte (see bufferPool.ts). */
  alloc(n: number): Buffer;
  /** Casts data into new scratch (off the main thread where it can be; the data itself when the types are one); castData by default. */
  cast?(data: Buffer, from: string, to: string): Promise<Buffer>;
}

export async function runTransforms(transforms: readonly Transform[], inputs: View[], io: TensorIO, what: string, signal?: AbortSignal): Promise<View[]> {
  let views = inputs;
  for (const t of transforms) {
    signal?.throwIfAborted();
    const step = applyTransform(t, views.map((v) => ({ shape: v.shape, dtype: v.dtype })));
    if (!step.ok) throw new ConvertError('mapping', `${what}: ${step.message}`);
    views = await apply(t, views, step.types, io, what);
    for (const [i, v] of views.entries()) {
      const e = step.types[i];
      if (v.dtype !== e.dtype || v.shape.length !== e.shape.length || v.shape.some((d, j) => d !== e.shape[j])) {
        throw new Error(`\`${t.name.text}\` produced ${v.dtype} [${v.shape.join(', ')}], expected ${e.dtype} [${e.shape.join(', ')}]`);
      }
    }
  }
  return views;
}

const norm = (d: number, rank: number) => (d < 0 ? d + rank : d);

async function apply(t: Transform, views: View[], types: TensorType[], io: TensorIO, what: string): Promise<View[]> {
  const ints = t.args.map((a) => a.value ?? NaN);
  switch (t.name.text) {
    case 'transpose':
      return views.map((v) => permute(v, [1, 0]));
    case 'permute':
      return views.map((v) => permute(v, ints.map((d) => norm(d, v.shape.length))));
    case 'squeeze':
      return views.map((v) => squeeze(v, norm(ints[0], v.shape.length)));
    case 'unsqueeze':
      return views.map((v) => unsqueeze(v, norm(ints[0], v.shape.length + 1)));
    case 'chunk': {
      const [n, k, d = 0] = ints;
      return views.map((v) => chunk(v, n, k, norm(d, v.shape.length)));
    }
    case 'reshape': {
      const out: View[] = [];
      for (const [i, v] of views.entries()) {
        if (isContiguous(v.shape, v.strides)) out.push(reshapeContiguous(v, types[i].shape));
        else out.push(memoryView(v.dtype, v.size, types[i].shape, await io.materialize(v, what), v.origin));
      }
      return out;
    }
    case 'cat': {
      const d = norm(ints[0], views[0].shape.length);
      const parts: Buffer[] = [];
      for (const v of views) parts.push(await io.materialize(v, what));
      return [memoryView(views[0].dtype, views[0].size, types[0].shape, concat(parts, views.map((v) => v.shape), d, views[0].size, io.alloc), views[0].origin)];
    }
    case 'cast': {
      const to = types[0].dtype;
      const out: View[] = [];
      for (const v of views) {
        const data = await io.materialize(v, what);
        const cast = io.cast ? await io.cast(data, v.dtype, to) : castData(data, v.dtype, to, io.alloc);
        out.push(memoryView(to, DTYPE_SIZE[to], v.shape, cast, v.origin));
      }
      return out;
    }
    default:
      throw new ConvertError('mapping', `${what}: unknown transform \`${t.name.text}\``);
  }
}

/** Concatenation along `d`: for each index of the outer dimensions, each part's block in turn. */
function concat(parts: Buffer[], shapes: number[][], d: number, size: number, alloc: (n: number) => Buffer): Buffer {
  const outer = numel(shapes[0].slice(0, d));
  const inner = numel(shapes[0].slice(d + 1)) * size;
  const blocks = shapes.map((s) => s[d] * inner);
  const out = alloc(outer * blocks.reduce((a, b) => a + b, 0)); // every block is copied in below
  let pos = 0;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < parts.length; j++) {
      parts[j].copy(out, pos, o * blocks[j], (o + 1) * blocks[j]);
      pos += blocks[j];
    }
  }
  return out;
}
