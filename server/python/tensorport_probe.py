"""Tensor Port's eager parity probe: builds the user's reference and candidate models (PyTorch or Paddle, in
the user's Python), loads their weights in memory, runs both on the same inputs with hooks on every module,
pairs the modules through the mapping, compares each pair where the tensors are, and sends the results
over the event channel (tensorport_channel.py) — never on stdout.

Run by path, by Tensor Port: python tensorport_probe.py CONFIG.json   (or under a launcher such as torchrun;
rank 0 reports, the other ranks print their verdict to stderr, which goes to the log).
The config is written by server/src/parity/eager/; its fields are documented there (probeConfig.ts).
"""
import importlib.util
import json
import os
import sys
import time
import traceback
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(1, HERE)

import numpy as np  # noqa: E402

import tensorport_channel as channel  # noqa: E402
import tensorport_hf  # noqa: E402
from tensorport_compare import compare, summary  # noqa: E402
from tensorport_early import EarlyCompare, core_left_over, drop_unpairable, pairs_before_candidate  # noqa: E402
from tensorport_fastcompare import compare_fast, summary_fast, torch_or_none  # noqa: E402
from tensorport_frameworks import Side, cuda_available, framework_of, source_of, versions  # noqa: E402
from tensorport_pairing import modules_of, pair_calls, slice_modules  # noqa: E402
from tensorport_shapes import broadcast_note, broadcastable, sliced  # noqa: E402
from tensorport_save import save_pairs  # noqa: E402


class ProbeError(Exception):
    """A reason the check cannot run, said in one line to the user."""


def log(msg):
    sys.stderr.write("[tensorport probe%s] %s\n" % ("" if channel.world_size() == 1 else " rank %d" % channel.rank(), msg))
    sys.stderr.flush()


def emit(event):
    if not channel.send(event) and channel.rank() == 0 and not channel.available():
        # Without a channel (run by hand) the events are the output.
        sys.stdout.write(json.dumps(event) + "\n")


# ---- building -------------------------------------------------------------------------------------
_loaded = {}


def load_file(path):
    path = os.path.abspath(path)
    if path in _loaded:
        return _loaded[path]
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # the user's own imports, relative to their file
    name = "tensorport_user_%d" % len(_loaded)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ProbeError("%s: not a Python file Python can load" % path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    _loaded[path] = mod
    return mod


def build(role, spec):
    mod = load_file(spec["file"])
    obj = getattr(mod, spec["name"], None)
    if obj is None:
        raise ProbeError("%s %s: no `%s` in %s" % (role, spec["file"], spec["name"], os.path.basename(spec["file"])))
    if not callable(obj):
        raise ProbeError("%s %s::%s is not a class or a function" % (role, spec["file"], spec["name"]))
    try:
        model = obj()
    except TypeError as e:
        raise ProbeError("%s %s::%s cannot be built with no arguments (%s): give a class with defaults or a function "
                         "returning the model, e.g. def %s(): return MyModel(...)" % (role, spec["file"], spec["name"], e, role))
    kind = framework_of(model)
    if kind is None:
        raise ProbeError("%s %s::%s returned a %s, not a torch.nn.Module or paddle.nn.Layer" % (role, spec["file"], spec["name"], type(model).__name__))
    return Side(role, model, kind)


def read_weights(blob, manifest):
    out = {}
    with open(blob, "rb") as f:
        for e in manifest:
            f.seek(e["offset"])
            a = np.fromfile(f, dtype=np.dtype(e["dtype"]), count=int(np.prod(e["shape"], dtype=np.int64)))
            out[e["key"]] = a.reshape(e["shape"])
    return out


def listed(keys, what):
    """One line for a list of keys: how many, and the first few (a checkpoint's 64 renamed keys would be a wall)."""
    keys = list(keys)
    shown = ", ".join(keys[:3]) + (", …" if len(keys) > 3 else "")
    return "%d %s: %s" % (len(keys), what, shown)


def load_weights(side, state, what):
    """Loads {key: ndarray} into a side, every tensor landing and every parameter getting a value, else one
    ProbeError with a line per kind of problem. A transformers model whose own names differ from the
    checkpoint's (transformers >= 5 renames on load) is loaded by transformers' loader (tensorport_hf)."""
    own = side.state_shapes()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = ["%s (%s has [%s], the model [%s])" % (k, what, ", ".join(map(str, state[k].shape)), ", ".join(map(str, own[k])))
             for k in state if k in own and list(state[k].shape) != own[k]]
    if side.kind == "torch" and unexpected and tensorport_hf.is_transformers_model(side.model):
        try:
            loaded = tensorport_hf.load(side.model, state)
        except Exception as e:  # noqa: BLE001 - transformers refused the checkpoint: say so in one line
            raise ProbeError("the %s (a transformers model) did not load %s through transformers' loader: %s: %s"
                             % (side.role, what, type(e).__name__, str(e).strip().splitlines()[0] if str(e).strip() else ""))
        if loaded is not None:
            side.renames, missing, unexpected, mismatched = loaded
            wrong = ["%s (%s has %s, the model %s)" % (k, what, list(a) if a is not None else "?", list(b) if b is not None else "?") for k, a, b in mismatched]
            if missing or unexpected or wrong:
                raise ProbeError(weight_problems(side, what, missing, unexpected, wrong, " (through transformers' loader, which renames as from_pretrained does)"))
            log("the %s loaded %s through transformers' loader: %d keys renamed" % (side.role, what, len(side.renames)))
            return
    if missing or unexpected or wrong:
        raise ProbeError(weight_problems(side, what, missing, unexpected, wrong, ""))
    side.load(state)


def weight_problems(side, what, missing, unexpected, wrong, how):
    problems = []
    if missing:
        problems.append(listed(missing, "of the %s's tensors get no value from %s%s" % (side.role, what, how)))
    if unexpected:
        problems.append(listed(unexpected, "tensors of %s are not in the %s%s" % (what, side.role, how)))
    if wrong:
        problems.append(listed(wrong, "tensors' shapes differ"))
    return "\n".join(problems)


# ---- inputs ---------------------------------------------------------------------------------------
def to_numpy_tree(x, sides):
    if isinstance(x, np.ndarray):
        return x
    for s in sides:
        if s.is_tensor(x):
            return s.numpy(x)
    if isinstance(x, (list, tuple)):
        return type(x)(to_numpy_tree(v, sides) for v in x) if isinstance(x, tuple) else [to_numpy_tree(v, sides) for v in x]
    if isinstance(x, dict):
        return {k: to_numpy_tree(v, sides) for k, v in x.items()}
    if isinstance(x, (int, float)):
        return np.asarray(x)
    raise ProbeError("example_inputs() returned a %s; it may return arrays or tensors, a tuple, a list or a dict of them" % type(x).__name__)


def make_inputs(cfg, sides):
    specs = cfg.get("inputs") or []
    if specs:
        named = {}
        for s in specs:
            if "file" in s:
                named[s["name"]] = np.load(s["file"], allow_pickle=False)
            else:
                rng = np.random.default_rng([cfg.get("seed", 0), zlib.crc32(s["name"].encode())])
                named[s["name"]] = rng.standard_normal(s["random"]).astype(np.float32)
        return named, [{"name": k, "dtype": str(v.dtype), "shape": list(v.shape), "source": "file" if "file" in s else "random"}
                       for (k, v), s in zip(named.items(), specs)]
    for spec in (cfg["reference"], cfg["candidate"]):
        fn = getattr(load_file(spec["file"]), "example_inputs", None)
        if callable(fn):
            x = to_numpy_tree(fn(), sides)
            if isinstance(x, np.ndarray):
                x = (x,)
            flat = x.items() if isinstance(x, dict) else enumerate(x)
            return x, [{"name": str(k), "dtype": str(v.dtype), "shape": list(v.shape), "source": "example_inputs()"} for k, v in flat]
    raise ProbeError("no inputs: give --input NAME=FILE.npy or NAME=random:SHAPE, or define example_inputs() in %s" % cfg["reference"]["file"])


def feed(side, inputs, dtype):
    if isinstance(inputs, dict):
        params = side.forward_params()
        if all(k in params for k in inputs):
            return side.model(**{k: side.tensor(v, dtype) for k, v in inputs.items()})
        return side.model(*[side.tensor(v, dtype) for v in inputs.values()])
    return side.model(*[side.tensor(v, dtype) for v in inputs])


def flatten_outputs(side, out, prefix="output"):
    if side.is_tensor(out):
        return [(prefix, out)] if side.is_float(out) else []
    items = []
    if isinstance(out, dict) or hasattr(out, "items"):
        for k, v in out.items():
            items += flatten_outputs(side, v, str(k))
    elif isinstance(out, (list, tuple)):
        for i, v in enumerate(out):
            items += flatten_outputs(side, v, "%s.%d" % (prefix, i) if prefix != "output" else "output.%d" % i)
    return items


def first_float(side, out):
    if side.is_tensor(out):
        return out if side.is_float(out) else None
    if isinstance(out, dict) or hasattr(out, "items"):
        out = list(out.values())
    if isinstance(out, (list, tuple)):
        for v in out:
            t = first_float(side, v)
            if t is not None:
                return t
    return None


# ---- recording --------------------------------------------------------------------------------------
class Recorder:
    """Every module call's first floating output, in completion order, and the modules running now."""

    def __init__(self, side):
        self.side = side
        self.calls = []
        self.counts = {}
        self.stack = []
        self.handles = []
        self.input_dtypes = {}
        self.keys_under = {}
        self.modules = {}
        self.on_call = None  # called with each recorded call, in the hook

    def index(self):
        """Every module and the state keys under it ({name: frozenset}), before any call."""
        if not self.modules:
            under = {}
            for k in self.side.state_shapes():  # each key under each of its prefixes: one pass, not one per module
                parts = k.split(".")
                for i in range(len(parts)):
                    under.setdefault(".".join(parts[:i]), []).append(k)
            for name, m in self.side.named_modules():
                self.modules[name] = m
                self.keys_under[name] = frozenset(under.get(name, ()))
        return self.keys_under

    def attach(self):
        self.index()
        for name, m in self.modules.items():
            self.handles += self.side.hook(m, self._pre(name), self._post(name))

    def detach(self):
        for h in self.handles:
            h.remove()
        self.handles = []

    def _pre(self, name):
        def pre(_m, inputs):
            self.stack.append(name)
            self.input_dtypes[name] = [self.side.dtype_name(x) for x in (inputs if isinstance(inputs, (list, tuple)) else [inputs]) if self.side.is_tensor(x)]
        return pre

    def _post(self, name):
        def post(_m, _inputs, out):
            if self.stack and self.stack[-1] == name:
                self.stack.pop()
            k = self.counts.get(name, 0)
            self.counts[name] = k + 1
            t = first_float(self.side, out)
            if t is not None:
                # "output" holds the output object itself: a call's "id" (id() of its output, which pairs the
                # same tensor returned by a wrapper and its child) is unique only while the object lives, and a
                # freed output's id is reused at once (the query, key and value outputs of one attention layer
                # had the same).
                self.calls.append({"name": name, "call": k, "tensor": self.side.keep(t), "output": t, "id": id(t),
                                   "shape": [int(d) for d in t.shape], "dtype": self.side.dtype_name(t), "keys": self.keys_under[name]})
                if self.on_call is not None:
                    self.on_call(self.calls[-1])
        return post


def run_side(side, rec, inputs, dtype, grad):
    rec.attach()
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        if grad:
            out = feed(side, inputs, dtype)
        else:
            with side.no_grad():
                out = feed(side, inputs, dtype)
        side.sync()
    finally:
        rec.detach()
    return out, (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000


def bare_forward_ms(sides, inputs, dtypes, runs):
    """Each model's best bare forward pass, wall and CPU time (the process's, all threads: user + system),
    each the best of `runs`. The two alternate, as in the probed run: a framework's idle OpenMP workers
    still spinning after its pass slow the other's (torch's libgomp and Paddle's libiomp5 on the same
    cores), and the reference measured apart from that would not be the pass the probe slows."""
    best, cpu = [float("inf")] * len(sides), [float("inf")] * len(sides)
    for _ in range(runs):
        for i, side in enumerate(sides):
            t0, c0 = time.perf_counter(), time.process_time()
            with side.no_grad():
                feed(side, inputs, dtypes[i])
            side.sync()
            best[i] = min(best[i], (time.perf_counter() - t0) * 1000)
            cpu[i] = min(cpu[i], (time.process_time() - c0) * 1000)
    return best, cpu


def peak_rss_mb():
    try:
        import resource
        r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return r / 1024 / 1024 if sys.platform == "darwin" else r / 1024
    except Exception:  # noqa: BLE001 - no resource module (Windows)
        return None


def missing_half_kernel(side, dtype, err):
    """Paddle's CPU build has no float16 (3.3: no bfloat16 either) kernels for matmul, layer_norm, conv2d…:
    a half-precision candidate on the CPU stops at its first operator. That is the run's setting, not the
    port's fault: one line saying what to do, instead of a divergence blamed on a module."""
    import re
    text = str(err)
    m = re.search(r"kernel with key \(CPU, [^,]*, (float16|bfloat16)\) of kernel `(\w+)` is not registered", text)
    if side.kind != "paddle" or dtype == "fp32" or not m:
        return None
    listed = re.search(r"Paddle support following DataTypes: ([\w, ]+)", text)
    kinds = [k.strip() for k in listed.group(1).split(",")] if listed else []
    other = "bf16" if dtype == "fp16" and "bfloat16" in kinds else None
    return ("--dtype %s: Paddle has no %s kernel for `%s` on the CPU, so the candidate cannot run in %s here: run it on a GPU "
            "(--device cuda), or use --dtype %s on the CPU" % (dtype, m.group(1), m.group(2), dtype, "%s or fp32" % other if other else "fp32"))


def fault_event(side, rec, err):
    module = rec.stack[-1] if rec.stack else ""
    return {"event": "error", "side": side.role, "module": module, "stack": list(rec.stack),
            "inputDtypes": rec.input_dtypes.get(module, []), "source": source_of(rec.modules[module]) if module in rec.modules else None,
            "message": "%s: %s" % (type(err).__name__, str(err).strip().splitlines()[0] if str(err).strip() else "")}


# ---- comparing -------------------------------------------------------------------------------------
def as_torch(side, t):
    """A torch tensor for the fused comparison: torch's own, Paddle's on the same memory (DLPack) or else
    through NumPy; None without torch."""
    torch = torch_or_none()
    if torch is None:
        return None
    if side.kind == "torch":
        return t
    shared = side.dlpack(t)
    return shared if shared is not None else torch.from_numpy(side.numpy(t))


def single_threaded_torch():
    """torch on one thread for the comparison when Paddle is loaded: right after a Paddle pass torch's thread
    pool contends with Paddle's OpenMP runtime (each operation several times slower than on one thread).
    Without Paddle the comparison keeps torch's threads. Returns the thread count to restore, or 0."""
    torch = torch_or_none()
    if torch is None or "paddle" not in sys.modules:
        return 0
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    return n


def compare_pair(ref, cand, rt, ct, atol, rtol, summaries):
    """compare() of two outputs (and both sides' summaries): fused in torch where it can decide, else NumPy.
    Outputs that differ only where one side has a size-1 dimension (a batch of one the framework broadcasts:
    position embeddings [1, 16, 128] added to [2, 16, 128]) are compared broadcast, as the sum would use them."""
    tr, tc = as_torch(ref, rt), as_torch(cand, ct)
    rs, cs = [int(d) for d in rt.shape], [int(d) for d in ct.shape]
    if rs != cs and broadcastable(rs, cs):
        full = [max(a, b) for a, b in zip(rs, cs)]
        if tr is not None and tc is not None:
            tr, tc = tr.expand(*full), tc.expand(*full)
        ra, ca = np.broadcast_to(ref.numpy(rt), full), np.broadcast_to(cand.numpy(ct), full)
        cmp = compare_pair_same(_NumpySide(ref), _NumpySide(cand), ra, ca, tr, tc, atol, rtol, summaries)
        cmp["broadcast"] = broadcast_note(rs, cs)
        return cmp
    return compare_pair_same(ref, cand, rt, ct, tr, tc, atol, rtol, summaries)


class _NumpySide:
    """A side whose tensors are already NumPy arrays (broadcast views)."""

    def __init__(self, side):
        self.side = side

    def numpy(self, a):
        return a


def compare_pair_same(ref, cand, rt, ct, tr, tc, atol, rtol, summaries):
    cmp = None
    if tr is not None and tc is not None:
        cmp = compare_fast(tr, tc.to(tr.device), atol, rtol, summaries)
    ra = ca = None
    if cmp is None:
        ra, ca = ref.numpy(rt), cand.numpy(ct)
        cmp = compare(ra, ca, atol, rtol)
    if summaries and "summary" not in cmp:
        sr = summary_fast(tr) if tr is not None else None
        sc = summary_fast(tc) if tc is not None else None
        cmp["summary"] = {"reference": sr if sr is not None else summary(ref.numpy(rt) if ra is None else ra),
                          "candidate": sc if sc is not None else summary(cand.numpy(ct) if ca is None else ca)}
    return cmp


def probed_run(cfg, ref, cand, inputs, dtype, backward, seed, kinds, atol, rtol):
    """Both probed passes, then every pair compared: the calls, the rows, and the times (wall and CPU)."""
    seed_all(seed, kinds)
    rules = cfg.get("rules") or []
    rrec, crec = Recorder(ref), Recorder(cand)
    try:
        ref_out, ref_ms, ref_cpu = run_side(ref, rrec, inputs, "fp32", backward)
    except Exception as e:  # noqa: BLE001 - the user's reference failed: the check cannot run
        ev = fault_event(ref, rrec, e)
        raise ProbeError("the reference failed%s: %s" % (" in module %s" % ev["module"] if ev["module"] else "", ev["message"]))
    paired = pairs_before_candidate(rrec.calls, crec.index(), rules)
    parts = {r for r, *_ in slice_modules(modules_of(rrec.calls), crec.index(), rules)}
    drop_unpairable(rrec.calls, set(paired) | parts)
    early = None
    if torch_or_none() is not None and core_left_over(cand, ref.device, channel.world_size()):
        early = EarlyCompare(ref, cand, rrec.calls, paired, atol, rtol, as_torch)
        crec.on_call = early.offer
    seed_all(seed, kinds)
    cand_error = None
    try:
        cand_out, cand_ms, cand_cpu = run_side(cand, crec, inputs, dtype, backward)
    except Exception as e:  # noqa: BLE001 - the port failed: that is a finding, reported with its module
        no_kernel = missing_half_kernel(cand, dtype, e)
        if no_kernel:
            raise ProbeError(no_kernel)
        cand_error = fault_event(cand, crec, e)
        cand_out, cand_ms, cand_cpu = None, 0.0, 0.0
        log("candidate raised: " + "".join(traceback.format_exception_only(type(e), e)).strip())

    t_cmp, c_cmp = time.perf_counter(), time.process_time()
    if early is not None:
        early.finish()
    threads = single_threaded_torch()
    pairs, unpaired = pair_calls(rrec.calls, crec.calls, rules)
    done_ids = {}
    results = []
    for p in pairs:
        r, c = p["reference"], p["candidate"]
        sl = p.get("slice")
        key = (r["id"], c["id"], sl["start"] if sl else None)
        if key in done_ids:
            cmp = done_ids[key]
        else:
            # A worker's result compares whole tensors of equal shapes: not a slice, not a broadcast.
            cmp = early.result(r, c) if early is not None and sl is None and r["shape"] == c["shape"] else None
            if cmp is None:
                rt, ct = r["tensor"], c["tensor"]
                if sl is not None:
                    rt, ct = (rt, sliced(ct, sl)) if sl["side"] == "candidate" else (sliced(rt, sl), ct)
                cmp = compare_pair(ref, cand, rt, ct, atol, rtol, True)
            done_ids[key] = cmp
        row = dict(cmp)
        if sl is not None:
            row["through"] = "the %s's output [..., %d:%d], part %d of %d of the fused module" % (sl["side"], sl["start"], sl["stop"], sl["index"] + 1, sl["of"])
        half = dtype != "fp32"
        if half and c["dtype"] in ("float32", "float64") and all(d not in ("float32", "float64") for d in crec.input_dtypes.get(c["name"], [])):
            row["pass"] = False
            row["reason"] = "the candidate computes this module in %s; the run is %s" % (c["dtype"], dtype)
        row.update({"reference": r["name"], "candidate": c["name"], "referenceCall": r["call"], "candidateCall": c["call"],
                    "pairedBy": p["by"], "dtype": {"reference": r["dtype"], "candidate": c["dtype"]},
                    "sources": {"reference": source_of(rrec.modules[r["name"]]), "candidate": source_of(crec.modules[c["name"]])}})
        results.append(row)
    if threads:
        torch_or_none().set_num_threads(threads)
    return {"rrec": rrec, "crec": crec, "results": results, "unpaired": unpaired, "refOut": ref_out, "candOut": cand_out,
            "candError": cand_error, "referenceMs": ref_ms, "candidateMs": cand_ms, "compareMs": (time.perf_counter() - t_cmp) * 1000,
            "referenceCpuMs": ref_cpu, "candidateCpuMs": cand_cpu, "compareCpuMs": (time.process_time() - c_cmp) * 1000,
            "earlyMs": early.busy_s * 1000 if early is not None else 0.0, "earlyCpuMs": early.cpu_s * 1000 if early is not None else 0.0}


# ---- the run ----------------------------------------------------------------------------------------
def seed_all(seed, kinds):
    import random
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in kinds:
        import torch
        torch.manual_seed(seed)
    if "paddle" in kinds:
        import paddle
        paddle.seed(seed)


def maybe_init_distributed(kinds, device):
    if channel.world_size() <= 1 or "torch" not in kinds:
        return None
    import torch.distributed as dist
    if not dist.is_available() or dist.is_initialized():
        return dist if dist.is_available() else None
    dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
    return dist


def main(config_path):
    channel.connect()
    with open(config_path) as f:
        cfg = json.load(f)
    t_start = time.perf_counter()
    dtype = cfg.get("dtype", "fp32")
    atol, rtol = cfg["atol"], cfg["rtol"]
    backward = bool(cfg.get("backward"))
    seed = int(cfg.get("seed", 0))

    # Import the user's files first: they import their frameworks, which decide the device.
    load_file(cfg["reference"]["file"])
    load_file(cfg["candidate"]["file"])
    kinds = {n for n in ("torch", "paddle") if n in sys.modules}
    want = cfg.get("device", "auto")
    local = int(os.environ.get("LOCAL_RANK", "0") or 0)
    gpu = want == "cuda" or (want == "auto" and cuda_available(kinds))
    if want == "cuda" and not cuda_available(kinds):
        raise ProbeError("--device cuda: no GPU answers in this Python (torch.cuda.is_available() is False, or Paddle is a CPU build)")
    device = "cuda:%d" % local if gpu else "cpu"
    if "paddle" in kinds:
        import paddle
        paddle.set_device("gpu:%d" % local if gpu else "cpu")
    dist = maybe_init_distributed(kinds, device)
    seed_all(seed, kinds)
    ref = build("reference", cfg["reference"])
    seed_all(seed, kinds)
    cand = build("candidate", cfg["candidate"])
    sides = [ref, cand]
    kinds |= {ref.kind, cand.kind}
    emit({"event": "started", "reference": ref.kind, "candidate": cand.kind, "device": device, "versions": versions(kinds),
          "rank": channel.rank(), "worldSize": channel.world_size()})

    for side, key in ((ref, "reference"), (cand, "candidate")):
        w = cfg[key].get("weights")
        if w:
            load_weights(side, read_weights(w["blob"], w["manifest"]), w["what"])
    if ref.renames or cand.renames:
        # The rules name the checkpoints' keys; pairing looks at the models' own (renamed on load).
        cfg["rules"] = [dict(r, sources=[ref.renames.get(k, k) for k in r["sources"]], target=cand.renames.get(r["target"], r["target"]))
                        for r in cfg.get("rules") or []]
        emit({"event": "renamed", "reference": ref.renames, "candidate": cand.renames})
    ref.set_device_dtype(device, "fp32")
    cand.set_device_dtype(device, dtype)
    ref.eval()
    cand.eval()
    inputs, input_report = make_inputs(cfg, sides)
    rss_loaded = peak_rss_mb()
    load_ms = (time.perf_counter() - t_start) * 1000
    emit({"event": "inputs", "inputs": input_report})

    bench = int(cfg.get("benchRuns", 0))
    bare = None
    if bench:
        b, b_cpu = bare_forward_ms([ref, cand], inputs, ["fp32", dtype], bench)
        bare = {"reference": b[0], "candidate": b[1], "cpu": {"reference": b_cpu[0], "candidate": b_cpu[1]}}

    wall_keys, cpu_keys = ("referenceMs", "candidateMs", "compareMs"), ("referenceCpuMs", "candidateCpuMs", "compareCpuMs")
    times = []
    for _ in range(max(0, bench - 1)):
        # Bench mode: the probed run's times are those of the best of as many runs as the bare passes' (the
        # least wall time in all, and apart the least CPU time), like with like.
        run = probed_run(cfg, ref, cand, inputs, dtype, backward, seed, kinds, atol, rtol)
        times.append({k: run[k] for k in wall_keys + cpu_keys + ("earlyMs", "earlyCpuMs")})
        del run
    run = probed_run(cfg, ref, cand, inputs, dtype, backward, seed, kinds, atol, rtol)
    times.append({k: run[k] for k in wall_keys + cpu_keys + ("earlyMs", "earlyCpuMs")})
    rrec, crec, results, unpaired = run["rrec"], run["crec"], run["results"], run["unpaired"]
    ref_out, cand_out, cand_error = run["refOut"], run["candOut"], run["candError"]
    saved = None
    if channel.rank() == 0:
        # Full tensors only on request, from rank 0 (the ranks would write the same files).
        saved, save_notes = save_pairs(cfg, results, ref, cand, rrec, crec)
        for n in save_notes:
            emit({"event": "note", "message": n})
    del run
    fast = min(times, key=lambda t: sum(t[k] for k in wall_keys))
    frugal = min(times, key=lambda t: sum(t[k] for k in cpu_keys))
    t_cmp, c_cmp = time.perf_counter(), time.process_time()
    threads = single_threaded_torch()
    for row in results:
        emit(dict(row, event="layer"))
    emit({"event": "unpaired", "reference": unpaired["reference"], "candidate": unpaired["candidate"], "crossing": unpaired["crossing"],
          "notComparable": unpaired["notComparable"]})

    outputs = []
    if cand_error is None:
        ro, co = flatten_outputs(ref, ref_out), flatten_outputs(cand, cand_out)
        for i, (rn, rt) in enumerate(ro):
            if i >= len(co):
                break
            cn, ct = co[i]
            cmp = compare_pair(ref, cand, rt, ct, atol, rtol, False)
            cmp.update({"name": rn})
            if cn != rn:
                cmp["candidateName"] = cn
            outputs.append(cmp)
            emit(dict(cmp, event="output"))
        if len(ro) != len(co):
            emit({"event": "note", "message": "the reference returns %d floating outputs, the candidate %d; the first %d are compared" % (len(ro), len(co), min(len(ro), len(co)))})
    else:
        emit(cand_error)
    if threads:
        torch_or_none().set_num_threads(threads)
    # The outputs' comparison and the events count as comparison too, in every run alike.
    tail_ms, tail_cpu = (time.perf_counter() - t_cmp) * 1000, (time.process_time() - c_cmp) * 1000

    grads = None
    if backward and cand_error is None:
        grads = run_backward(cfg, ref, cand, ref_out, cand_out, seed)
    # Other ranks' verdicts, for rank 0's report.
    ranks = None
    if dist is not None:
        mine = {"rank": channel.rank(), "failing": sum(1 for r in results if not r["pass"]), "layers": len(results),
                "outputsPass": all(o["pass"] for o in outputs) and cand_error is None}
        gathered = [None] * channel.world_size()
        dist.all_gather_object(gathered, mine)
        ranks = gathered
        if channel.rank() != 0:
            log("%d of %d module pairs outside tolerance; outputs %s" % (mine["failing"], mine["layers"], "pass" if mine["outputsPass"] else "FAIL"))
    emit({"event": "done", "device": device, "gradients": grads, "ranks": ranks, "savedTensors": saved,
          "timings": {"loadMs": load_ms, "referenceMs": fast["referenceMs"], "candidateMs": fast["candidateMs"], "compareMs": fast["compareMs"] + tail_ms,
                      "earlyCompareMs": fast["earlyMs"], "bare": bare,
                      "cpu": {"referenceMs": frugal["referenceCpuMs"], "candidateMs": frugal["candidateCpuMs"],
                              "compareMs": frugal["compareCpuMs"] + tail_cpu, "earlyCompareMs": frugal["earlyCpuMs"]}},
          "memory": {"afterLoadMB": rss_loaded, "peakMB": peak_rss_mb()}})
    if dist is not None:
        dist.barrier()
        dist.destroy_process_group()


def run_backward(cfg, ref, cand, ref_out, cand_out, seed):
    """The same scalar loss on both sides (a fixed random projection of the first output), then every
    parameter's gradient to a file beside the weights, for Node to pair through the mapping's transforms."""
    ro, co = flatten_outputs(ref, ref_out), flatten_outputs(cand, cand_out)
    if not ro or not co:
        raise ProbeError("--backward: a model returned no floating output to take a loss of")
    shape = [int(d) for d in ro[0][1].shape]
    w = np.random.default_rng([seed, 7]).standard_normal(shape).astype(np.float32)
    ref.backward(ref.scalar_loss(ro[0][1], w))
    cand.backward(cand.scalar_loss(co[0][1], w))
    out = {}
    path = cfg["gradientsFile"]
    with open(path, "wb") as f:
        for side in (ref, cand):
            manifest = []
            for k, g in side.gradients().items():
                g = np.ascontiguousarray(g.astype(np.float32) if g.dtype != np.float64 else g)
                manifest.append({"key": k, "dtype": g.dtype.str, "shape": list(g.shape), "offset": f.tell(), "nbytes": int(g.nbytes)})
                f.write(g.tobytes())
            out[side.role] = manifest
    out["file"] = path
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: python tensorport_probe.py CONFIG.json (Tensor Port starts this)\n")
        sys.exit(2)
    try:
        main(sys.argv[1])
    except ProbeError as e:
        emit({"event": "fatal", "message": str(e)})
        log(str(e))
        sys.exit(3)
    except Exception as e:  # noqa: BLE001 - the user's code raised while being built or loaded
        tb = traceback.format_exc()
        sys.stderr.write(tb)
        emit({"event": "fatal", "message": "%s: %s" % (type(e).__name__, str(e).strip().splitlines()[0] if str(e).strip() else ""),
              "where": traceback.extract_tb(e.__traceback__)[-1][:2] if e.__traceback__ else None})
        sys.exit(3)
    finally:
        channel.close()
