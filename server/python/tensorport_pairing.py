"""Which module call of the candidate is which of the reference.

1. Through the mapping: a reference module whose state keys the rules all map, onto exactly the state keys
   of a candidate module, is that module (`encoder.layer.3.attention` ↔ `layers.3.attn`: the prefixes of
   the rules' source and target keys). Several modules with one key set (a wrapper and its only child)
   pair innermost with innermost; wrappers left over on one side stay unpaired. Without rules, equal
   module names pair.
2. The other calls of modules without any state pair by order and shape: between consecutive anchors of
   step 1 (reduced to the longest chain that runs forward in both models, so a q/k swap in the mapping
   does not scramble the rest), by a longest common subsequence over output shapes.
The k-th call of a module pairs with the k-th call of its partner. The roots are the models' outputs,
compared apart.
"""


def _depth(name):
    return name.count(".") + 1 if name else 0


def modules_of(calls):
    """{module name: its state keys} of the modules that made these calls, in call order."""
    out = {}
    for c in calls:
        out.setdefault(c["name"], c["keys"])
    return out


def module_pairs(ref_mods, cand_mods, rules):
    """Step 1: {reference module: (candidate module, "mapping" or "name")}. `cand_mods` may hold every module
    of the candidate, called or not (before its pass): a reference module unpaired then stays unpaired
    whichever of them run, as pairing fewer candidates pairs a prefix of the same reference list."""
    src2tgt = {}
    for r in rules:
        for s in r["sources"]:
            src2tgt.setdefault(s, set()).add(r["target"])
    if not rules:
        return {name: (name, "name") for name in ref_mods if name and name in cand_mods}
    by_keys = {}
    for name, keys in cand_mods.items():
        if name and keys:
            by_keys.setdefault(keys, []).append(name)
    wanted, out = {}, {}
    for name, keys in ref_mods.items():
        if not name or not keys or any(k not in src2tgt for k in keys):
            continue
        target = frozenset(t for k in keys for t in src2tgt[k])
        if target in by_keys:
            wanted.setdefault(target, []).append(name)
    for target, refs in wanted.items():
        cands = sorted(by_keys[target], key=_depth, reverse=True)
        # Innermost with innermost; a wrapper left over computes more than its child (an activation, a
        # residual) and pairs with nothing rather than with something else.
        for r, c in zip(sorted(refs, key=_depth, reverse=True), cands):
            out[r] = (c, "mapping")
    return out


def pair_calls(ref_calls, cand_calls, rules):
    paired = module_pairs(modules_of(ref_calls), modules_of(cand_calls), rules)
    cand_index = {(c["name"], c["call"]): i for i, c in enumerate(cand_calls)}
    anchors = []
    for i, c in enumerate(ref_calls):
        p = paired.get(c["name"])
        if p is None:
            continue
        j = cand_index.get((p[0], c["call"]))
        if j is not None:
            anchors.append((i, j, p[1]))
    chain = _longest_forward_chain(anchors)
    pairs = [(i, j, by) for i, j, by in anchors]
    # Order and shape between the chain's anchors, for calls of modules without state.
    used_r = {i for i, _, _ in anchors}
    used_c = {j for _, j, _ in anchors}
    free_r = lambda i: i not in used_r and not ref_calls[i]["keys"] and ref_calls[i]["name"] != ""  # noqa: E731
    free_c = lambda j: j not in used_c and not cand_calls[j]["keys"] and cand_calls[j]["name"] != ""  # noqa: E731
    bounds = [(-1, -1)] + [(i, j) for i, j, _ in chain] + [(len(ref_calls), len(cand_calls))]
    for (i0, j0), (i1, j1) in zip(bounds, bounds[1:]):
        rs = [i for i in range(i0 + 1, i1) if free_r(i)]
        cs = [j for j in range(j0 + 1, j1) if free_c(j)]
        for i, j in _lcs(rs, cs, lambda i, j: ref_calls[i]["shape"] == cand_calls[j]["shape"]):
            pairs.append((i, j, "order"))
            used_r.add(i)
            used_c.add(j)
    pairs.sort(key=lambda p: (p[0], p[1]))
    out = [{"reference": ref_calls[i], "candidate": cand_calls[j], "by": by} for i, j, by in pairs]
    in_chain = {(i, j) for i, j, _ in chain}
    unpaired = {
        "reference": sorted({c["name"] for i, c in enumerate(ref_calls) if i not in used_r and c["name"]}),
        "candidate": sorted({c["name"] for j, c in enumerate(cand_calls) if j not in used_c and c["name"]}),
        # Mapping pairs against forward order: the candidate runs them in another order (swapped rules?).
        "crossing": [[ref_calls[i]["name"], cand_calls[j]["name"]] for i, j, _ in anchors if (i, j) not in in_chain],
    }
    return out, unpaired


def _longest_forward_chain(anchors):
    """The longest subsequence of (i, j) pairs increasing in both i and j (anchors come sorted by i)."""
    if not anchors:
        return []
    import bisect
    tails, tail_idx, prev = [], [], [-1] * len(anchors)
    for k, (_, j, _) in enumerate(anchors):
        pos = bisect.bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            tail_idx.append(k)
        else:
            tails[pos] = j
            tail_idx[pos] = k
        prev[k] = tail_idx[pos - 1] if pos > 0 else -1
    out, k = [], tail_idx[-1]
    while k >= 0:
        out.append(anchors[k])
        k = prev[k]
    return out[::-1]


def _lcs(a, b, same):
    if not a or not b:
        return []
    n, m = len(a), len(b)
    t = [[0] * (m + 1) for _ in range(n + 1)]
    for x in range(n - 1, -1, -1):
        for y in range(m - 1, -1, -1):
            t[x][y] = t[x + 1][y + 1] + 1 if same(a[x], b[y]) else max(t[x + 1][y], t[x][y + 1])
    out, x, y = [], 0, 0
    while x < n and y < m:
        if same(a[x], b[y]):
            out.append((a[x], b[y]))
            x += 1
            y += 1
        elif t[x + 1][y] >= t[x][y + 1]:
            x += 1
        else:
            y += 1
    return out
