/**
 * The lookup structure over a TensorTable's key arena: where each tensor's dimensions start, an
 * open-addressing hash of the keys, and the positions a later duplicate key shadows. Typed arrays only,
 * so a read worker builds it beside the table and transfers it: on the server's thread it cost ~50 ms
 * per 100,000-tensor side, before the first diagnostics could be published.
 */
import { TensorTable } from './tensorTable';

export interface TableIndex {
  /** Where each tensor's dimensions start in `table.dims`. */
  dimStart: Uint32Array;
  /** Open addressing: position + 1 of the tensor whose key hashes there, 0 for empty. */
  slots: Int32Array;
  /** Positions whose key a later tensor repeats (a Map keeps the last value). */
  shadowed: Int32Array;
}

export function indexTable(table: TensorTable): TableIndex {
  const n = table.count;
  const extraKey = new Map<number, string>();
  for (const [i, t] of table.extras) extraKey.set(i, t.key);
  const dimStart = new Uint32Array(n);
  let q = 0;
  for (let i = 0; i < n; i++) {
    dimStart[i] = q;
    if (!extraKey.has(i)) q += table.ndim[i];
  }
  let size = 16;
  while (size < n * 2) size *= 2;
  const slots = new Int32Array(size);
  const shadowed: number[] = [];
  const mask = size - 1;
  const start = (i: number) => (i === 0 ? 0 : table.keyEnds[i - 1]);
  const keyAt = (i: number) => extraKey.get(i) ?? table.keys.slice(start(i), table.keyEnds[i]);
  const same = (i: number, j: number): boolean => {
    const a = extraKey.get(i), b = extraKey.get(j);
    if (a !== undefined || b !== undefined) return keyAt(i) === keyAt(j);
    const si = start(i), sj = start(j), len = table.keyEnds[i] - si;
    if (table.keyEnds[j] - sj !== len) return false;
    for (let k = 0; k < len; k++) if (table.keys.charCodeAt(si + k) !== table.keys.charCodeAt(sj + k)) return false;
    return true;
  };
  for (let i = 0; i < n; i++) {
    const extra = extraKey.get(i);
    const h0 = extra !== undefined ? keyHash(extra, 0, extra.length) : keyHash(table.keys, start(i), table.keyEnds[i]);
    for (let h = h0 & mask; ; h = (h + 1) & mask) {
      const p = slots[h];
      if (p === 0) {
        slots[h] = i + 1;
        break;
      }
      if (same(p - 1, i)) {
        shadowed.push(p - 1);
        slots[h] = i + 1;
        break;
      }
    }
  }
  return { dimStart, slots, shadowed: Int32Array.from(shadowed) };
}

/** The index's typed arrays, to transfer with postMessage. */
export function indexBuffers(x: TableIndex): ArrayBuffer[] {
  return [x.dimStart, x.slots, x.shadowed].map((a) => a.buffer as ArrayBuffer);
}

/** FNV-1a over UTF-16 code units; `h`: the state to go on from (a hash of what comes before). */
export function keyHash(s: string, start: number, end: number, h = 0x811c9dc5): number {
  for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
