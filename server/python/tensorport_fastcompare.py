"""compare() and summary() of tensorport_compare.py, fused in torch for the common case: large, finite
tensors. The probe compares every module pair of a run, tens of millions of elements; NumPy's passes (a
float64 copy of each side, a temporary per step) cost several times the forward passes, these few float32
torch passes over reused scratch buffers a fraction of them.

Precision. The float32 passes only find the elements that can decide each result; those are computed
again in float64, so the verdict (`pass`), the mismatch count, maxAbsDiff, worstIndex, maxRelDiff and both
required tolerances are exactly compare.ts's. Each maximum is taken per block of elements, and the blocks
whose float32 maximum comes within the float32 error bound of the best (or of the rule's threshold) are
recomputed in float64: the exact maximum, and every element the rule could judge otherwise, lie in them.
Min, max and the sample of the summaries are exact too. The cosine and the summaries' mean and std come
from float32 sums (torch's reductions accumulate in float32): about 1e-6 relative at worst; the cosine
near 1 far better, since it is taken from |c - r|^2, |r|^2 and |c|^2.
Anything else (small tensors, NaN, infinities, float64 inputs, no torch) goes to tensorport_compare.py, and
test/unit/parity-eager.test.ts checks the two agree.
"""
import math
import sys
import threading

import numpy as np

from tensorport_compare import SAMPLE, cosine_of, shape_mismatch

# Below this the NumPy rule is as fast as torch's dispatch, and small arrays take compare.ts's exact path.
FAST_MIN = 1 << 12
# Blocks of up to this many elements (a power of two dividing the size where there is one).
BLOCK = 1024
# A float32 result of these passes is within 4 units (U) of the exact one, relative; ERR is 16 units.
U = 2.0 ** -24
ERR = 16 * U
_torch = None
_local = threading.local()


def torch_or_none():
    """torch when the user's models already imported it (never imported for a Paddle-only run), else None."""
    global _torch
    if not _torch:
        _torch = sys.modules.get("torch")
    return _torch


def compare_fast(r, c, atol, rtol, summaries=False):
    """The comparison of two torch tensors (CPU or GPU), or None where tensorport_compare.compare must decide;
    with `summaries`, both sides' summary() too, from the same passes."""
    torch = _torch
    shape = [int(d) for d in r.shape]
    if tuple(r.shape) != tuple(c.shape):
        return shape_mismatch(r.shape, c.shape)
    n = r.numel()
    if n < FAST_MIN or r.dtype == torch.float64 or c.dtype == torch.float64:
        return None
    x = _Pair(r.detach().reshape(-1).float(), c.detach().reshape(-1).to(device=r.device, dtype=torch.float32))
    r, c = x.r, x.c
    s0, s1, s2 = _scratch(n, r)
    # Each side's reductions while it is still in cache from the subtraction: min and max (the summaries and
    # the error bound), the sum and the sum of squares (the mean, the std and the cosine).
    d = torch.sub(c, r, out=s0)
    clo, chi = (float(v) for v in torch.aminmax(c)) if summaries else (0.0, 0.0)
    nc, c_sum = float(torch.dot(c, c)), (float(torch.sum(c)) if summaries else 0.0)
    rlo, rhi = (float(v) for v in torch.aminmax(r))
    nr, r_sum = float(torch.dot(r, r)), (float(torch.sum(r)) if summaries else 0.0)
    ar = torch.abs(r, out=s1)
    d = d.abs_()
    d_max = x.maxima(d)
    if not math.isfinite(d_max.top):
        return None  # NaN or infinity on a side (or an overflowing difference): NumPy's exact semantics
    dd = float(torch.dot(d, d))
    if d_max.top == 0:
        max_abs, worst = 0.0, 0
    else:  # the first largest difference: float32 maxima can tie where the exact values do not
        at, r64, c64 = x.exact(d_max.near(d_max.top))
        diff = np.abs(c64 - r64)
        k = int(np.argmax(diff))
        max_abs, worst = float(diff[k]), int(at[k])

    rel = torch.div(d, ar, out=s2)  # 0/0 → NaN (0 in compare.ts), d/0 → inf
    rel_max = x.maxima(rel)
    if math.isnan(rel_max.top):
        rel_max = x.maxima(rel.nan_to_num_(nan=0.0, posinf=float("inf")))
    max_rel = 0.0
    if rel_max.top > 0:
        _, r64, c64 = x.exact(rel_max.near(rel_max.top * (1 - 8 * U)))
        max_rel = float(np.max(_relative(np.abs(c64 - r64), np.abs(r64))))

    # The smallest rtol that passes at this atol: (d - atol)/|r| over the elements with d > atol.
    req_rtol = 0.0
    if max_abs > atol:
        _, r64, c64 = x.exact(d_max.near(atol * (1 - ERR)))
        diff = np.abs(c64 - r64)
        over = diff > atol
        if over.any():
            with np.errstate(divide="ignore"):
                req_rtol = max(0.0, float(np.max((diff[over] - atol) / np.abs(r64[over]))))

    # d - rtol*|r|: above atol is a mismatch, and its maximum is the smallest atol that passes at this rtol.
    e = d.sub_(ar, alpha=rtol)
    e_max = x.maxima(e)
    bound = ERR * (max_abs + rtol * max(-rlo, rhi) + atol)
    _, r64, c64 = x.exact(e_max.near(min(e_max.top - 2 * bound, atol - bound)))
    diff, ar64 = np.abs(c64 - r64), np.abs(r64)
    req_atol = max(0.0, float(np.max(diff - rtol * ar64))) if diff.size else 0.0
    mismatches = int(np.count_nonzero(diff > atol + rtol * ar64))

    out = {"shape": shape, "pass": mismatches == 0, "maxAbsDiff": max_abs, "maxRelDiff": max_rel,
           "cosine": cosine_of((nr + nc - dd) / 2, nr, nc), "worstIndex": _flat_to_index(worst, shape),
           "mismatches": mismatches, "elements": int(n), "requiredTolerance": {"atol": req_atol, "rtol": req_rtol}}
    if summaries:
        out["summary"] = {"reference": _stats(r, rlo, rhi, r_sum, nr), "candidate": _stats(c, clo, chi, c_sum, nc)}
    return out


class _Pair:
    """The two flat float32 sides, their blocks, and float64 values at chosen positions."""

    def __init__(self, r, c):
        self.r, self.c, self.n = r, c, r.numel()
        b = BLOCK
        while b > 64 and self.n % b:
            b //= 2
        self.block = b if self.n % b == 0 else BLOCK
        self.full = self.n - self.n % self.block

    def maxima(self, v):
        return _Maxima(self, v)

    def exact(self, at):
        """`at` (flat positions, ascending: a range or an index tensor) and both sides there in float64, in
        NumPy: usually a block of elements, where torch's cost per call would outweigh the work."""
        r, c = (self.r[at.start:at.stop], self.c[at.start:at.stop]) if isinstance(at, range) else (self.r[at], self.c[at])
        return at, r.cpu().numpy().astype(np.float64), c.cpu().numpy().astype(np.float64)


class _Maxima:
    """A float32 vector's maximum per block (and over the tail) in NumPy, and its overall maximum `top`."""

    def __init__(self, pair, v):
        torch = _torch
        self.pair = pair
        self.blocks = torch.amax(v[:pair.full].view(-1, pair.block), dim=1).cpu().numpy()
        self.tail = float(torch.amax(v[pair.full:])) if pair.full < pair.n else None
        top = float(self.blocks.max())
        self.top = top if self.tail is None or math.isnan(top) or top >= self.tail else self.tail

    def near(self, threshold):
        """The flat positions, ascending, of every element in a block whose maximum is `threshold` or more:
        a range where they are one run (the usual case: the block holding the maximum), else an index."""
        p = self.pair
        at = np.flatnonzero(self.blocks >= threshold)
        tail = self.tail is not None and self.tail >= threshold
        if len(at) <= 1 and not (tail and len(at)):
            return range(p.full, p.n) if tail else range(int(at[0]) * p.block, (int(at[0]) + 1) * p.block) if len(at) else range(0, 0)
        out = (at[:, None] * p.block + np.arange(p.block)).reshape(-1)
        return _torch.from_numpy(np.concatenate([out, np.arange(p.full, p.n)]) if tail else out).to(p.r.device)


def _relative(d, ar):
    """compare.ts's relative difference: d/|r|, 0 where both are 0, inf where only |r| is."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ar > 0, d / np.where(ar > 0, ar, 1), np.where(d > 0, np.inf, 0))


def _scratch(n, like):
    """Three float32 scratch vectors of n elements on `like`'s device, this thread's own, reused from pair
    to pair (a fresh buffer per operation costs page faults as dear as the operation)."""
    torch = _torch
    bufs = getattr(_local, "bufs", None)
    if bufs is None:
        bufs = _local.bufs = {}
    b = bufs.get(like.device)
    if b is None or b.shape[1] < n:
        b = bufs[like.device] = torch.empty((3, max(n, 1 << 16)), dtype=torch.float32, device=like.device)
    return b[0, :n], b[1, :n], b[2, :n]


def release_scratch():
    _local.bufs = None


def _flat_to_index(flat, shape):
    """tensorport_compare._unravel without NumPy's call overhead."""
    out = []
    for size in reversed(shape):
        flat, i = divmod(flat, size)
        out.append(i)
    return out[::-1]


def _stats(flat, lo, hi, total, squares):
    n = flat.numel()
    mean = total / n
    std = max(0.0, squares / n - mean * mean) ** 0.5
    return _with_sample(flat, {"elements": int(n), "nonFinite": 0, "min": lo, "max": hi, "mean": mean, "std": std})


def _with_sample(flat, out):
    picks, at = _picks(flat.numel(), flat.device)
    return dict(out, sampleAt=picks, sample=flat[at].tolist())


_picked = {}


def _picks(n, device):
    """The sample's flat positions (as tensorport_compare.summary), as a list and as an index on `device`."""
    key = (n, str(device))
    if key not in _picked:
        picks = [int(i) for i in np.unique(np.linspace(0, n - 1, num=min(SAMPLE, n)).astype(np.int64))]
        _picked[key] = (picks, _torch.tensor(picks, device=device))
    return _picked[key]


def summary_fast(a):
    """tensorport_compare.summary of a finite torch tensor of FAST_MIN elements or more, else None."""
    torch = _torch
    flat = a.detach().reshape(-1)
    n = flat.numel()
    if n < FAST_MIN or flat.dtype == torch.float64:
        return None
    flat = flat.float()
    lo, hi = (float(x) for x in torch.aminmax(flat))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    return _stats(flat, lo, hi, float(torch.sum(flat)), float(torch.dot(flat, flat)))
