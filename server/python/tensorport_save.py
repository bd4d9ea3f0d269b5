"""Full tensors on request (`--save-tensors MODULE[,MODULE…]`): the paired outputs of the named reference
modules and their candidate partners, written in full as NumPy `.npy` files (numpy.save) into one folder.

File names come from the reference module's name, which the user's code chooses (`self._modules[...]`
takes any string): only [A-Za-z0-9_.-] is kept, leading dots are dropped, Windows' reserved device names
are prefixed, and a name changed on the way (or cut to length) gets its CRC-32 appended so two modules
never share a file. The result has no separator, so it cannot leave the folder; the path is checked again
after resolving links. Each file is written beside its final name and renamed over it: a failed write
leaves an older file as it was, and a link planted at the final name is replaced, not followed. Unlike
`convert`'s output (never replaced without --force), these files are the tool's own, named by it in the
folder it writes: a later run replacing an earlier run's file is the point. A run killed mid-write leaves
its temporary file; the next run into the folder removes such leftovers (our exact mkstemp pattern,
regular files only, untouched for an hour) and says so in a note.
"""
import os
import re
import stat
import tempfile
import time
import zlib

import numpy as np

_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])$", re.IGNORECASE)
MAX_STEM = 100


def safe_stem(name):
    """A file name stem for a module name: no separators, no leading dot, unique per name."""
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", name).lstrip(".")
    if _RESERVED.match(stem.split(".")[0]):
        stem = "_" + stem
    if stem != name or not stem or len(stem) > MAX_STEM:
        stem = "%s-%08x" % (stem[:MAX_STEM] or "module", zlib.crc32(name.encode("utf-8", "surrogatepass")))
    return stem


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp(prefix=".tensorport-", suffix=".npy.tmp"): its random part is 8 of [a-z0-9_].
_TEMP = re.compile(r"^\.tensorport-[a-z0-9_]{8}\.npy\.tmp$")
STALE_AFTER_S = 3600


def remove_stale_temps(folder, now=None):
    """Removes temporary files killed runs left in `folder`: our pattern only, regular files only (never
    through a link), untouched for an hour (a live run writes to its file). Returns the names removed."""
    now = time.time() if now is None else now
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        if not _TEMP.match(name):
            continue
        path = os.path.join(folder, name)
        try:
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode) and now - st.st_mtime >= STALE_AFTER_S:
                os.unlink(path)
                removed.append(name)
        except OSError:
            pass
    return removed


def _write_npy(folder, file_name, array):
    real = os.path.realpath(folder)
    target = os.path.join(real, file_name)
    if os.path.dirname(target) != real:
        raise ValueError("%r would leave the folder" % file_name)
    fd, tmp = tempfile.mkstemp(prefix=".tensorport-", suffix=".npy.tmp", dir=real)
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, array, allow_pickle=False)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's file is private; a saved tensor is an ordinary file
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target


def wanted(request, name, call):
    """Whether `--save-tensors` asked for this call: the module's name (every call), `NAME#K` (the K-th),
    `(model)` for the whole model."""
    shown = name if name else "(model)"
    return shown in request or ("%s#%d" % (shown, call)) in request


def save_pairs(cfg, results, ref, cand, rrec, crec):
    """Writes the requested pairs; returns the report's `savedTensors` and notes (a name nothing matched, a
    folder that cannot be written: the check's verdicts still come back)."""
    req = cfg.get("saveTensors")
    if not req:
        return None, []
    modules, folder = list(req["modules"]), req["dir"]
    by_ref = {(c["name"], c["call"]): c for c in rrec.calls}
    by_cand = {(c["name"], c["call"]): c for c in crec.calls}
    files, matched, seen, widened, notes = [], set(), set(), set(), []
    failed = False
    try:
        os.makedirs(folder, exist_ok=True)
        stale = remove_stale_temps(folder)
        if stale:
            notes.append("--save-tensors: removed %d stale temporary file%s left by interrupted runs in %s: %s" % (
                len(stale), "" if len(stale) == 1 else "s", folder, ", ".join(sorted(stale))))
        _save_rows(modules, folder, results, ref, cand, by_ref, by_cand, files, matched, seen, widened)
    except (OSError, ValueError) as e:
        failed = True
        notes.append("--save-tensors: cannot write into %s (%s); %d pair%s saved before" % (folder, getattr(e, "strerror", None) or e, len(files), "" if len(files) == 1 else "s"))
    notes += ["--save-tensors: the %s's bfloat16 outputs are saved as float32 (NumPy has no bfloat16)" % s for s in sorted(widened)]
    missing = [m for m in modules if m not in matched]
    if missing and not failed:
        ref_names = {c["name"] if c["name"] else "(model)" for c in rrec.calls}
        for m in missing:
            why = "it has no candidate partner (unpaired)" if m.rsplit("#", 1)[0] in ref_names or m in ref_names else "no reference module has that name"
            notes.append("--save-tensors %s: nothing saved, %s" % (m, why))
    return {"dir": os.path.realpath(folder), "files": files, "missing": missing}, notes


def _save_rows(modules, folder, results, ref, cand, by_ref, by_cand, files, matched, seen, widened):
    for row in results:
        name, call = row["reference"], row["referenceCall"]
        if (name, call) in seen or not wanted(modules, name, call):
            continue
        seen.add((name, call))
        shown = name if name else "(model)"
        matched.update(m for m in modules if m in (shown, "%s#%d" % (shown, call)))
        stem = safe_stem(name) + ("#%d" % call if call else "")
        cname, ccall = row["candidate"], row["candidateCall"]
        entry = {"reference": shown + ("#%d" % call if call else ""), "candidate": (cname or "(model)") + ("#%d" % ccall if ccall else ""),
                 "dtype": {}, "shape": {}}
        for side, rec, module in (("reference", by_ref[(name, call)], ref), ("candidate", by_cand[(cname, ccall)], cand)):
            a = np.ascontiguousarray(module.numpy(rec["tensor"]))
            entry[side + "File"] = _write_npy(folder, "%s.%s.npy" % (stem, side), a)
            entry["dtype"][side] = str(a.dtype)
            entry["shape"][side] = [int(d) for d in a.shape]
            if rec["dtype"] == "bfloat16":
                widened.add(side)
        files.append(entry)
