"""The comparison of server/src/parity/compare.ts in NumPy, so the probe compares activations where they
are and sends statistics, not tensors. The same rule (torch.testing.assert_close's
|c - r| <= atol + rtol*|r| everywhere), the same NaN/infinity semantics, the same required tolerances;
test/unit/parity-eager.test.ts checks the two agree on the same arrays.
"""
import numpy as np

SAMPLE = 8


def _unravel(flat, shape):
    return [int(i) for i in np.unravel_index(int(flat), shape)] if shape else []


def cosine_of(dot, nr, nc):
    """The cosine from the dot product and the two squared norms: 1 when both are zero, 0 when one is."""
    if nr == 0 and nc == 0:
        return 1.0
    if nr == 0 or nc == 0:
        return 0.0
    return max(-1.0, min(1.0, dot / (nr * nc) ** 0.5))


def shape_mismatch(ref_shape, cand_shape):
    return {"shape": list(ref_shape), "pass": False, "maxAbsDiff": float("nan"), "maxRelDiff": float("nan"),
            "cosine": float("nan"), "worstIndex": [], "mismatches": float("nan"), "elements": float("nan"),
            "requiredTolerance": {"atol": float("inf"), "rtol": float("inf")},
            "reason": "shapes differ: reference [%s], candidate [%s]" % (", ".join(map(str, ref_shape)), ", ".join(map(str, cand_shape)))}


def compare(ref, cand, atol, rtol):
    shape = list(ref.shape)
    if tuple(ref.shape) != tuple(cand.shape):
        return shape_mismatch(ref.shape, cand.shape)
    # Small tensors in double precision, as compare.ts computes; large ones in single (a copy of every
    # activation in float64 would cost more than the forward pass).
    work = np.float64 if ref.size <= (1 << 20) or ref.dtype == np.float64 or cand.dtype == np.float64 else np.float32
    r = np.asarray(ref, dtype=work).ravel()
    c = np.asarray(cand, dtype=work).ravel()
    n = r.size
    inf = float("inf")
    if n == 0:
        return {"shape": shape, "pass": True, "maxAbsDiff": 0.0, "maxRelDiff": 0.0, "cosine": 1.0, "worstIndex": [],
                "mismatches": 0, "elements": 0, "requiredTolerance": {"atol": 0.0, "rtol": 0.0}}
    finite = np.isfinite(r) & np.isfinite(c)
    all_finite = bool(finite.all())
    mismatches = 0
    one_sided_nan_at = -1
    inf_mismatch_at = -1
    if not all_finite:
        rn, cn = np.isnan(r), np.isnan(c)
        one = np.flatnonzero(rn ^ cn)
        if one.size:
            one_sided_nan_at = int(one[0])
            mismatches += int(one.size)
        odd = ~finite & ~rn & ~cn & (r != c)
        bad_inf = np.flatnonzero(odd)
        if bad_inf.size:
            inf_mismatch_at = int(bad_inf[0])
            mismatches += int(bad_inf.size)
        rf, cf = r[finite], c[finite]
        idx = np.flatnonzero(finite)
    else:
        rf, cf, idx = r, c, None
    d = np.abs(cf - rf)
    ar = np.abs(rf)
    if d.size:
        mismatches += int(np.count_nonzero(d > atol + rtol * ar))
        w = int(np.argmax(d))
        max_abs = float(d[w])
        worst = w if idx is None else int(idx[w])
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(ar > 0, d / np.where(ar > 0, ar, 1), np.where(d > 0, inf, 0))
        max_rel = float(rel.max())
        req_atol = max(0.0, float((d - rtol * ar).max()))
        over = d > atol
        if over.any():
            with np.errstate(divide="ignore", invalid="ignore"):
                need = np.where(ar[over] > 0, (d[over] - atol) / np.where(ar[over] > 0, ar[over], 1), inf)
            req_rtol = max(0.0, float(need.max()))
        else:
            req_rtol = 0.0
        dot = float(np.dot(rf, cf))
        nr = float(np.dot(rf, rf))
        nc = float(np.dot(cf, cf))
    else:
        max_abs = max_rel = req_atol = req_rtol = 0.0
        worst = -1
        dot = nr = nc = 0.0
    if inf_mismatch_at >= 0:
        max_abs = max_rel = req_atol = req_rtol = inf
        worst = inf_mismatch_at
    if one_sided_nan_at >= 0:
        max_abs = max_rel = float("nan")
        req_atol = req_rtol = inf
        worst = one_sided_nan_at
        cosine = float("nan")
    else:
        cosine = cosine_of(dot, nr, nc)
    if worst < 0:
        worst = 0
    return {"shape": shape, "pass": mismatches == 0, "maxAbsDiff": max_abs, "maxRelDiff": max_rel, "cosine": cosine,
            "worstIndex": _unravel(worst, shape), "mismatches": mismatches, "elements": int(n),
            "requiredTolerance": {"atol": req_atol, "rtol": req_rtol}}


def summary(a):
    """A tensor as statistics plus a fixed sample (the same flat positions on both sides)."""
    flat = np.asarray(a).ravel()
    n = flat.size
    if n == 0:
        return {"elements": 0}
    f = flat.astype(np.float64) if n <= (1 << 16) else flat
    finite = np.isfinite(f)
    ok = f if finite.all() else f[finite]
    picks = np.unique(np.linspace(0, n - 1, num=min(SAMPLE, n)).astype(np.int64))
    out = {"elements": int(n), "nonFinite": int(n - ok.size), "sampleAt": [int(i) for i in picks],
           "sample": [float(flat[i]) for i in picks]}
    if ok.size:
        out.update({"min": float(ok.min()), "max": float(ok.max()), "mean": float(ok.mean()), "std": float(ok.std())})
    return out
