"""Which module call of the candidate is which of the reference.

1. Through the mapping: a reference module whose state keys the rules all map, onto exactly the state keys
   of a candidate module, is that module (`encoder.layer.3.attention` ↔ `layers.3.attn`: the prefixes of
   the rules' source and target keys). Several modules with one key set (a wrapper and its only child)
   pair innermost with innermost; wrappers left over on one side stay unpaired. Without rules, equal
   module names pair.
2. The other calls of modules without any state pair by order and shape: between consecutive anchors of
   step 1 (reduced to the longest chain that runs forward in both models, so a q/k swap in the mapping
   does not scramble the rest), by a longest common subsequence over output shapes.
3. Through fused and split tensors: a reference module whose keys a `cat` rule joins with other modules'
   keys into one candidate module (q, k, v → qkv) is compared with its slice of that module's output, and a
   candidate module a `chunk` rule cuts out of one reference module (qkv → q, k, v) with its slice of the
   reference's output — along the last dimension, in the rule's order. Such modules never pair whole: q
   against the whole qkv differs in shape and would be a false failure.
The k-th call of a module pairs with the k-th call of its partner. The roots are the models' outputs,
compared apart.
"""
import re


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
    src2tgt, tgt2src = {}, {}
    for r in rules:
        for s in r["sources"]:
            src2tgt.setdefault(s, set()).add(r["target"])
            tgt2src.setdefault(r["target"], set()).add(s)
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
        # Made from other modules' tensors too (a part of a fused target): compared through slices, not whole.
        if any(not tgt2src[t] <= keys for t in target):
            continue
        if target in by_keys:
            wanted.setdefault(target, []).append(name)
    for target, refs in wanted.items():
        cands = sorted(by_keys[target], key=_depth, reverse=True)
        # Innermost with innermost; a wrapper left over computes more than its child (an activation, a
        # residual) and pairs with nothing rather than with something else.
        for r, c in zip(sorted(refs, key=_depth, reverse=True), cands):
            out[r] = (c, "mapping")
    return out


def _owners(mods):
    """{state key: the innermost module holding it}."""
    out = {}
    for name, keys in mods.items():
        if not name:
            continue
        for k in keys:
            if k not in out or _depth(name) > _depth(out[k]):
                out[k] = name
    return out


def slice_modules(ref_mods, cand_mods, rules):
    """Step 3: [(reference module, candidate module, the side whose output is sliced, part index, the modules
    of all the parts in order)] — each part of a fused module, from `cat` rules (several sources) and from
    rules that carry a `part` (a `chunk(n, k)`: the k-th of n). A part whose keys do not all go to (or come
    from) the fused module's is left out: what it is a part of is not one module."""
    ref_owner, cand_owner = _owners(ref_mods), _owners(cand_mods)
    out, seen = [], set()
    for r in rules:
        fused_cat = len(r["sources"]) > 1
        part = r.get("part")
        if fused_cat:
            whole = cand_owner.get(r["target"])
            parts = [ref_owner.get(s) for s in r["sources"]]
            if whole is None or None in parts or len(set(parts)) != len(parts):
                continue
            # Every key of each part goes to the fused module, and every key of the fused module comes from the parts.
            fed = {s for p in parts for s in ref_mods[p]}
            targets = {x["target"] for x in rules if set(x["sources"]) & fed}
            if targets != set(cand_mods[whole]) or any(cand_owner.get(t) != whole for t in targets):
                continue
            for i, p in enumerate(parts):
                if (p, whole) not in seen:
                    seen.add((p, whole))
                    out.append((p, whole, "candidate", i, parts))
        elif part and len(r["sources"]) == 1:
            whole = ref_owner.get(r["sources"][0])
            mine = cand_owner.get(r["target"])
            if whole is None or mine is None:
                continue
            siblings = [x for x in rules if x.get("part") and len(x["sources"]) == 1 and ref_owner.get(x["sources"][0]) == whole]
            by_index = {}
            for x in siblings:
                by_index.setdefault(int(x["part"][0]), set()).add(cand_owner.get(x["target"]))
            n = int(part[1])
            if len(by_index) != n or any(len(v) != 1 or None in v for v in by_index.values()):
                continue
            parts = [next(iter(by_index[k])) for k in range(n)]
            if len(set(parts)) != n or {x["target"] for x in siblings} != {k for p in parts for k in cand_mods[p]}:
                continue
            if (whole, mine) not in seen:
                seen.add((whole, mine))
                out.append((whole, mine, "reference", int(part[0]), parts))
    return out


def _slice_of(fused_call, part_calls, index):
    """(start, stop) of part `index` along the fused output's last dimension: the parts' own last sizes in
    order, which must add up to the fused one; else None (not comparable)."""
    if any(c is None or not c["shape"] for c in part_calls) or not fused_call["shape"]:
        return None
    sizes = [c["shape"][-1] for c in part_calls]
    if sum(sizes) != fused_call["shape"][-1]:
        return None
    return sum(sizes[:index]), sum(sizes[:index + 1])


def _slice_pairs(ref_calls, cand_calls, ref_mods, cand_mods, rules):
    """Pairs of step 3 with the slice each compares, and the parts that cannot be compared (sizes that do not add up)."""
    ref_at = {(c["name"], c["call"]): i for i, c in enumerate(ref_calls)}
    cand_at = {(c["name"], c["call"]): j for j, c in enumerate(cand_calls)}
    pairs, not_comparable = [], []
    for r, c, sliced, index, parts in slice_modules(ref_mods, cand_mods, rules):
        part_at, fused_at, fused_name = (ref_at, cand_at, c) if sliced == "candidate" else (cand_at, ref_at, r)
        fused_calls, part_calls = (cand_calls, ref_calls) if sliced == "candidate" else (ref_calls, cand_calls)
        k = 0
        while (r, k) in ref_at and (c, k) in cand_at:
            i, j = ref_at[(r, k)], cand_at[(c, k)]
            fused = fused_calls[fused_at[(fused_name, k)]]
            span = _slice_of(fused, [part_calls[part_at[(p, k)]] if (p, k) in part_at else None for p in parts], index)
            if span is None:
                not_comparable.append([r, c])
            else:
                pairs.append((i, j, {"side": sliced, "start": span[0], "stop": span[1], "index": index, "of": len(parts)}))
            k += 1
    return pairs, not_comparable


def pair_calls(ref_calls, cand_calls, rules):
    ref_mods, cand_mods = modules_of(ref_calls), modules_of(cand_calls)
    paired = module_pairs(ref_mods, cand_mods, rules)
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
        for i, j in _lcs(rs, cs, lambda i, j: ref_calls[i]["shape"] == cand_calls[j]["shape"] and _same_block(ref_calls[i]["name"], cand_calls[j]["name"])):
            pairs.append((i, j, "order"))
            used_r.add(i)
            used_c.add(j)
    slices, not_comparable = _slice_pairs(ref_calls, cand_calls, ref_mods, cand_mods, rules)
    for i, j, _ in slices:
        used_r.add(i)
        used_c.add(j)
    sliced = {(i, j): sl for i, j, sl in slices}
    pairs += [(i, j, "mapping") for i, j, _ in slices]
    pairs.sort(key=lambda p: (p[0], p[1]))
    out = [dict({"reference": ref_calls[i], "candidate": cand_calls[j], "by": by}, **({"slice": sliced[(i, j)]} if (i, j) in sliced else {}))
           for i, j, by in pairs]
    in_chain = {(i, j) for i, j, _ in chain}
    unpaired = {
        "reference": sorted({c["name"] for i, c in enumerate(ref_calls) if i not in used_r and c["name"]}),
        "candidate": sorted({c["name"] for j, c in enumerate(cand_calls) if j not in used_c and c["name"]}),
        # Mapping pairs against forward order: the candidate runs them in another order (swapped rules?).
        "crossing": [[ref_calls[i]["name"], cand_calls[j]["name"]] for i, j, _ in anchors if (i, j) not in in_chain],
        # Parts of a fused module whose output sizes do not add up to the fused one's: not comparable.
        "notComparable": sorted({tuple(x) for x in not_comparable}),
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


_BLOCK = re.compile(r"(?:^|\.)(\d+)(?:\.|$)")


def _same_block(a, b):
    """Whether two modules may pair by order: in the same numbered block where both are in one. A dropout of
    the reference's block 1 and one of the candidate's block 0 have the same shape and, with nothing to
    anchor them, would line up by order alone."""
    x, y = _BLOCK.search(a), _BLOCK.search(b)
    return x is None or y is None or x.group(1) == y.group(1)


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
