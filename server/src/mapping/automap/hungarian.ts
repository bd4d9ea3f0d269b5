/**
 * The assignment problem, solved exactly: the Hungarian algorithm (Kuhn–Munkres with potentials,
 * O(n²·m)). The auto-mapper pairs the tensors of one group this way instead of greedily, so one early
 * good-looking pairing cannot steal the tensor that a later one needed.
 */

/**
 * Minimum-cost assignment of every row to a distinct column. `cost` is rows × columns, all finite.
 * Returns, for each row, its column (or -1 when there are more rows than columns and the row is left).
 */
export function hungarian(cost: readonly (readonly number[])[]): number[] {
  const n = cost.length;
  if (n === 0) return [];
  const m = cost[0].length;
  if (m === 0) return new Array<number>(n).fill(-1);
  if (n > m) {
    // Solve the transpose (columns as rows) and invert it.
    const t = Array.from({ length: m }, (_, j) => Array.from({ length: n }, (_, i) => cost[i][j]));
    const colToRow = hungarian(t);
    const out = new Array<number>(n).fill(-1);
    colToRow.forEach((i, j) => { if (i >= 0) out[i] = j; });
    return out;
  }
  // 1-based potentials u (rows), v (columns); p[j] = row matched to column j; way[j] = previous column on the path.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      const row = cost[i0 - 1];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = row[j - 1] - u[i0] - v[j];
        if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
        if (minv[j] < delta) { delta = minv[j]; j1 = j; }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) { u[p[j]] += delta; v[j] -= delta; } else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const out = new Array<number>(n).fill(-1);
  for (let j = 1; j <= m; j++) if (p[j] > 0) out[p[j] - 1] = j - 1;
  return out;
}

/**
 * Maximum-weight matching of a bipartite graph given as a score matrix, where `undefined` means "these
 * two must not be paired". Rows and columns may stay unmatched; every returned pair has a score.
 */
export function maxWeightMatching(score: readonly (readonly (number | undefined)[])[]): [number, number][] {
  // An infeasible cell costs 0 — the same as leaving both ends unmatched — so the optimum never needs it.
  const cost = score.map((row) => row.map((s) => (s === undefined || s <= 0 ? 0 : -s)));
  return hungarian(cost)
    .map((j, i): [number, number] => [i, j])
    .filter(([i, j]) => j >= 0 && score[i][j] !== undefined && score[i][j]! > 0);
}
