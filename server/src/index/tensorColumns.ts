/**
 * The tensor list the server keeps: a TensorTable (one key arena, dtypes, shapes and byte ranges in
 * typed arrays) with a hash index over the arena, so a key is found without a string or an object per
 * tensor. A TensorInfo is made only when asked for and not kept: 100,000 tensors held as objects cost
 * the server ~2 KB each (key, shape array, location, map entry, trie node); as columns ~60 bytes.
 */
import { CheckpointInfo, TensorInfo } from '../formats/tensorInfo';
import { TensorTable } from '../formats/tensorTable';
import { indexTable, keyHash, TableIndex } from '../formats/tableIndex';
import type { TrieData } from './trieData';

export class TensorColumns {
  private readonly dimStart: Uint32Array;
  private readonly slots: Int32Array;
  private readonly extraAt = new Map<number, TensorInfo>();
  private readonly shadowed: Set<number>;

  /**
   * `index`: built where the table was read (a read worker); built here if not given. `trie`: the keys'
   * trie built there too, over positions (KeyTrie takes it with ColumnMap.byPosition()).
   */
  constructor(readonly table: TensorTable, index: TableIndex = indexTable(table), readonly trie?: TrieData) {
    for (const [i, t] of table.extras) this.extraAt.set(i, t);
    this.dimStart = index.dimStart;
    this.slots = index.slots;
    this.shadowed = new Set(index.shadowed);
  }

  get count(): number {
    return this.table.count;
  }

  keyAt(i: number): string {
    const extra = this.extraAt.get(i);
    return extra ? extra.key : this.table.keys.slice(this.keyStart(i), this.table.keyEnds[i]);
  }

  /**
   * A fresh TensorInfo for position i; `reversed` gives the shape last dimension first (GGUF's order
   * flipped). `known`: the key at i, when the caller has it (a lookup by key), used rather than a copy.
   */
  at(i: number, reversed = false, known?: string): TensorInfo {
    const extra = this.extraAt.get(i);
    if (extra) return reversed ? { ...extra, shape: [...extra.shape].reverse() } : extra;
    const t = this.table;
    const k = t.ndim[i], s = this.dimStart[i];
    const shape = new Array<number>(k);
    for (let j = 0; j < k; j++) shape[j] = t.dims[reversed ? s + k - 1 - j : s + j];
    const key = known ?? t.keys.slice(this.keyStart(i), t.keyEnds[i]), dtype = t.dtypes[t.dtype[i]], f = t.file[i];
    return f < 0 ? { key, dtype, shape } : { key, dtype, shape, location: { file: t.files[f], offset: t.offset[i], length: t.length[i] } };
  }

  /** How many dimensions the tensor at i has, without making it. */
  rank(i: number): number {
    const extra = this.extraAt.get(i);
    return extra ? extra.shape.length : this.table.ndim[i];
  }

  /** Dimension j of the tensor at i (`reversed`: counted from the last), without making it. */
  dim(i: number, j: number, reversed = false): number {
    const extra = this.extraAt.get(i);
    const k = extra ? extra.shape.length : this.table.ndim[i];
    const at = reversed ? k - 1 - j : j;
    return extra ? extra.shape[at] : this.table.dims[this.dimStart[i] + at];
  }

  /** The position of `key` (its last occurrence), or -1. */
  indexOf(key: string): number {
    const mask = this.slots.length - 1;
    for (let h = keyHash(key, 0, key.length) & mask; ; h = (h + 1) & mask) {
      const p = this.slots[h];
      if (p === 0) return -1;
      if (this.equals(p - 1, key)) return p - 1;
    }
  }

  /** Whether position i is the one its key finds (false for an earlier duplicate). */
  isLive(i: number): boolean {
    return !this.shadowed.has(i);
  }

  /** The tensors that did not fit the columns, as they were read. */
  *extras(): Generator<TensorInfo> {
    for (const [, t] of this.table.extras) yield t;
  }

  /** Every tensor as objects, in file order (for callers that want the array: the CLI, a converter). */
  decode(): TensorInfo[] {
    const out = new Array<TensorInfo>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.at(i);
    return out;
  }

  /** The tensor at i as it was read, when it did not fit the columns (ONNX consumers, model-source fields, strides). */
  extraOf(i: number): TensorInfo | undefined {
    return this.extraAt.get(i);
  }

  private keyStart(i: number): number {
    return i === 0 ? 0 : this.table.keyEnds[i - 1];
  }

  private equals(i: number, key: string): boolean {
    const extra = this.extraAt.get(i);
    if (extra) return extra.key === key;
    const start = this.keyStart(i);
    return this.table.keyEnds[i] - start === key.length && this.table.keys.startsWith(key, start);
  }
}

/**
 * The tensors of one side as a read-only map over columns: `get` makes a TensorInfo each time (callers
 * that ask twice get equal, not identical, objects). ONNX Constant values are left out (a mapping neither
 * reads nor writes them); GGUF shapes are given row-major.
 */
export class ColumnMap implements ReadonlyMap<string, TensorInfo> {
  readonly size: number;
  /**
   * The keys as strings by position, once `keys()` has made them (a side lists them anyway): `get`
   * then answers with these, so what keeps its answers (a rule's writes, the role memo) keeps no copy.
   */
  private names?: string[];

  constructor(private readonly cols: TensorColumns, private readonly reversed: boolean, private readonly skip: (t: TensorInfo) => boolean) {
    let n = 0;
    for (let i = 0; i < cols.count; i++) if (this.included(i)) n++;
    this.size = n;
  }

  get(key: string): TensorInfo | undefined {
    const i = this.cols.indexOf(key);
    return i >= 0 && this.included(i) ? this.cols.at(i, this.reversed, this.names?.[i] ?? key) : undefined;
  }

  has(key: string): boolean {
    const i = this.cols.indexOf(key);
    return i >= 0 && this.included(i);
  }

  *keys(): MapIterator<string> {
    const names = this.byPosition();
    for (let i = 0; i < this.cols.count; i++) if (this.included(i)) yield names[i];
  }

  /**
   * The keys as one array, in file order: the array `get` answers from when every position is included
   * (the common case), so a side's key list and this map share one array of 100,000 strings, not two.
   */
  keyList(): readonly string[] {
    return this.size === this.cols.count ? this.byPosition() : [...this.keys()];
  }

  /** The keys by table position (a hole where a position is left out): what a worker-built trie's key indexes point into. */
  byPosition(): readonly string[] {
    if (!this.names) {
      const names = new Array<string>(this.cols.count);
      for (let i = 0; i < this.cols.count; i++) if (this.included(i)) names[i] = this.cols.keyAt(i);
      this.names = names;
    }
    return this.names;
  }

  *values(): MapIterator<TensorInfo> {
    for (let i = 0; i < this.cols.count; i++) if (this.included(i)) yield this.cols.at(i, this.reversed);
  }

  *entries(): MapIterator<[string, TensorInfo]> {
    for (let i = 0; i < this.cols.count; i++) {
      if (!this.included(i)) continue;
      const t = this.cols.at(i, this.reversed);
      yield [t.key, t];
    }
  }

  /**
   * The tensors of one rank whose shape `keep` accepts, made only for those: a side's first build
   * looks at its 1-D and non-square 2-D tensors without making 100,000 objects. `keep` sees one
   * array reused for every tensor.
   */
  *entriesOfRank(rank: number, keep: (shape: readonly number[]) => boolean = () => true): Generator<[string, TensorInfo]> {
    const shape = new Array<number>(rank);
    for (let i = 0; i < this.cols.count; i++) {
      if (this.cols.rank(i) !== rank || !this.included(i)) continue;
      for (let j = 0; j < rank; j++) shape[j] = this.cols.dim(i, j, this.reversed);
      if (!keep(shape)) continue;
      const t = this.cols.at(i, this.reversed);
      yield [t.key, t];
    }
  }

  [Symbol.iterator](): MapIterator<[string, TensorInfo]> {
    return this.entries();
  }

  forEach(fn: (value: TensorInfo, key: string, map: ReadonlyMap<string, TensorInfo>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }

  private included(i: number): boolean {
    if (!this.cols.isLive(i)) return false;
    const extra = this.cols.extraOf(i);
    return !extra || !this.skip(extra);
  }
}

/** The columns behind a checkpoint the read pool returned; undefined for one read as objects. */
const registry = new WeakMap<CheckpointInfo, TensorColumns>();

export function columnsOf(info: CheckpointInfo): TensorColumns | undefined {
  return registry.get(info);
}

/**
 * A CheckpointInfo whose `tensors` array is made from the columns when first read and held only weakly:
 * the index keeps the columns, and the array lives while a caller (a conversion, `keys`) uses it.
 */
export function columnarInfo(info: Omit<CheckpointInfo, 'tensors'>, cols: TensorColumns): CheckpointInfo {
  const out = { ...info } as CheckpointInfo;
  let held: WeakRef<TensorInfo[]> | undefined;
  Object.defineProperty(out, 'tensors', {
    enumerable: true,
    get(): TensorInfo[] {
      let a = held?.deref();
      if (!a) held = new WeakRef(a = cols.decode());
      return a;
    },
  });
  registry.set(out, cols);
  return out;
}

/** How many tensors a checkpoint lists, without making them. */
export function tensorCount(info: CheckpointInfo): number {
  return columnsOf(info)?.count ?? info.tensors.length;
}
