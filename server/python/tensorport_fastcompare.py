"""compare() and summary() of tensorport_compare.py, fused in torch for the common case: large, finite
tensors. The probe compares every module pair of a run, tens of millions of elements; NumPy's passes
(a float64 copy of each side, a temporary per step) cost several times the forward passes, while these
few in-place torch operations on data still warm from the forward pass do not. The rule, tolerances and
working precision (float64 up to 2^20 elements, float32 above, as tensorport_compare.py) are the same;
anything else (small tensors, NaN, infinities, float64 inputs, no torch) goes to tensorport_compare.py,
and test/unit/parity-eager.test.ts checks the two agree.
"""
import math
import sys

import numpy as np

from tensorport_compare import SAMPLE, _unravel, cosine_of, shape_mismatch

# Below this the NumPy rule is as fast as torch's dispatch, and small arrays take compare.ts's exact path.
FAST_MIN = 1 << 12
_torch = None


def torch_or_none():
    """torch when the user's models already imported it (never imported for a Paddle-only run), else None."""
    global _torch
    if not _torch:
        _torch = sys.modules.get("torch")
    return _torch


def compare_fast(r, c, atol, rtol, summaries=False):
    """The comparison of two torch tensors (CPU or GPU), or None where tensorport_compare.compare must decide;
    with `summaries`, both sides' summary() too, from the same working copies and sums of squares."""
    torch = _torch
    shape = [int(d) for d in r.shape]
    if tuple(r.shape) != tuple(c.shape):
        return shape_mismatch(r.shape, c.shape)
    n = r.numel()
    if n < FAST_MIN or r.dtype == torch.float64 or c.dtype == torch.float64:
        return None
    work = torch.float64 if n <= (1 << 20) else torch.float32
    r0, c0 = r.detach().reshape(-1), c.detach().reshape(-1)
    r, c = r0.to(work), c0.to(work)
    d = torch.sub(c, r).abs_()
    top, at = torch.max(d, 0)  # the first largest, as compare.ts
    max_abs, w = float(top), int(at)
    if not math.isfinite(max_abs):
        return None  # NaN or infinity on a side (or an overflowing difference): NumPy's exact semantics
    ar = r.abs()
    t = ar.mul(rtol)
    mismatches = int(torch.count_nonzero(d > t.add(atol)))
    req_atol = max(0.0, float(torch.max(t.neg_().add_(d))))  # d - rtol*|r|
    inf = float("inf")
    max_rel = float(torch.max(torch.div(d, ar).nan_to_num_(nan=0.0, posinf=inf)))  # 0/0 → 0, d/0 → inf
    # (d - atol)/|r| where d > atol, else 0: the smallest rtol that passes at this atol.
    req_rtol = max(0.0, float(torch.max(d.sub_(atol).clamp_min_(0).div_(ar).nan_to_num_(nan=0.0, posinf=inf))))
    dot, nr, nc = float(torch.dot(r, c)), float(torch.dot(r, r)), float(torch.dot(c, c))
    cosine = cosine_of(dot, nr, nc)
    sides = None
    if summaries:
        sides = {"reference": _stats(r0, r, nr), "candidate": _stats(c0, c, nc)}
        if None in sides.values():
            return None
    return {"shape": shape, "pass": mismatches == 0, "maxAbsDiff": max_abs, "maxRelDiff": max_rel, "cosine": cosine,
            "worstIndex": _unravel(w, shape), "mismatches": mismatches, "elements": int(n),
            "requiredTolerance": {"atol": req_atol, "rtol": req_rtol}, **({"summary": sides} if sides else {})}


def _stats(flat, work, squares):
    """summary() from the working copy: its sum, and the sum of squares the cosine took (float64 up to 2^20)."""
    torch = _torch
    if work.dtype != torch.float64:
        return summary_fast(flat)
    n = flat.numel()
    lo, hi = torch.aminmax(work)
    mean = float(work.sum()) / n
    std = max(0.0, squares / n - mean * mean) ** 0.5
    return _with_sample(flat, {"elements": int(n), "nonFinite": 0, "min": float(lo), "max": float(hi), "mean": mean, "std": std})


def _with_sample(flat, out):
    n = flat.numel()
    picks = [int(i) for i in np.unique(np.linspace(0, n - 1, num=min(SAMPLE, n)).astype(np.int64))]
    return dict(out, sampleAt=picks, sample=[float(x) for x in flat[picks].float().tolist()])


def summary_fast(a):
    """tensorport_compare.summary of a finite torch tensor of FAST_MIN elements or more, else None."""
    torch = _torch
    flat = a.detach().reshape(-1)
    n = flat.numel()
    if n < FAST_MIN or flat.dtype == torch.float64:
        return None
    lo, hi = torch.aminmax(flat)
    if not (math.isfinite(float(lo)) and math.isfinite(float(hi))):
        return None
    # Mean and standard deviation from the sum and the sum of squares, both accumulated in float64: one pass
    # each, where torch.std_mean's two passes cost more than the whole comparison.
    mean = float(torch.sum(flat, dtype=torch.float64)) / n
    squares = float(torch.linalg.vector_norm(flat, dtype=torch.float64)) ** 2 / n
    std = max(0.0, squares - mean * mean) ** 0.5
    return _with_sample(flat, {"elements": int(n), "nonFinite": 0, "min": float(lo), "max": float(hi), "mean": mean, "std": std})
