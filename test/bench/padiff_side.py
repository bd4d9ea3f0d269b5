"""PaDiff (pip install padiff) on the eager parity pair: the HF-style PyTorch ViT-Tiny against the seed-style
Paddle ViT, for the correct port and each planted fault. Run by parity-padiff.bench.ts with the Python named by
TENSORPORT_PADIFF_PYTHON; prints one JSON line per case: what PaDiff reports and how long auto_diff takes.

PaDiff pairs layers by their definition order, which differs here (HF declares layernorm_before after the
attention, the port attn_norm before it), so the pairing is given as a LayerMap from the mapping's rules, as a
PaDiff user would write it; the candidate's weights are the mapping's (a PaDiff user converts them by hand;
here the rules are applied in Python: rename, `| transpose`) and auto_weights is off, so mapping faults reach it.
"""
import contextlib
import io
import json
import re
import sys
import time

ports, eager, case_dir = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path[:0] = [case_dir, eager, ports]

import numpy as np  # noqa: E402
import paddle  # noqa: E402
import torch  # noqa: E402
from padiff import LayerMap, auto_diff  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

paddle.set_device("cpu")


def rules(tpmap):
    out = []
    for line in open(tpmap):
        m = re.match(r"^(\S+) -> (\S+)( \| transpose)?\s*$", line.strip())
        if m:
            out.append((m.group(1), m.group(2), bool(m.group(3))))
    return out


def regex(pattern):
    return "^" + re.escape(pattern).replace(r"\{i\}", r"(?P<i>\d+)").replace(r"\*", r"(?P<rest>.+)") + "$"


def convert(state, tpmap):
    out = {}
    for key, value in state.items():
        for src, tgt, transpose in rules(tpmap):
            m = re.match(regex(src), key)
            if m:
                name = tgt.replace("{i}", m.groupdict().get("i") or "").replace("*", m.groupdict().get("rest") or "")
                out[name] = value.T if transpose else value
                break
    return out


def layer_map(ref, cand, tpmap):
    """Leaf modules paired through the rules' prefixes (layers.0.attn.q <-> encoder.layer.0.attention.attention.query)."""
    rmods, cmods = dict(ref.named_modules()), dict(cand.named_sublayers())
    pairs = {}
    for key in ref.state_dict():
        for src, tgt, _ in rules(tpmap):
            m = re.match(regex(src), key)
            if m:
                name = tgt.replace("{i}", m.groupdict().get("i") or "").replace("*", m.groupdict().get("rest") or "")
                rm, cm = key.rpartition(".")[0], name.rpartition(".")[0]
                if rm in rmods and cm in cmods and list(rmods[rm].children()) == [] and list(cmods[cm].children()) == []:
                    pairs[rmods[rm]] = cmods[cm]
                break
    lm = LayerMap()
    lm.map = pairs
    return lm


def main():
    case, candidate_module, tpmap = sys.argv[4], sys.argv[5], sys.argv[6]
    import hf_style_vit
    cand_mod = __import__(candidate_module)
    torch.manual_seed(0)
    paddle.seed(0)
    ref = hf_style_vit.reference()
    cand = cand_mod.candidate()
    state = load_file(eager + "/vit_tiny_trained.safetensors")
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    cand.set_state_dict({k: paddle.to_tensor(np.ascontiguousarray(v)) for k, v in convert(state, tpmap).items()})
    ref.eval()
    cand.eval()
    x = hf_style_vit.example_inputs()
    x = x["pixel_values"] if isinstance(x, dict) else x[0]
    x = np.asarray(x, dtype=np.float32)
    log = io.StringIO()
    t0 = time.perf_counter()
    error = None
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        try:
            ok = auto_diff(cand, ref, ({"x": paddle.to_tensor(x)}, {"pixel_values": torch.from_numpy(x)}), auto_weights=False,
                           options={"atol": 1e-5, "rtol": 1.3e-6, "compare_mode": "strict"}, layer_map=layer_map(ref, cand, tpmap))
        except Exception as e:  # noqa: BLE001 - what PaDiff raised is the finding reported
            ok, error = False, "%s: %s" % (type(e).__name__, str(e).strip().splitlines()[0] if str(e).strip() else "")
    ms = (time.perf_counter() - t0) * 1000
    text = log.getvalue()
    # "diff found at torch: (layer) Linear vs paddle: (layer) Linear" (PaDiff's innermost layer with a diff),
    # and why it stopped there ("number of api is different": the two models call different operations).
    where = re.search(r"diff found at torch: (.+?) vs paddle: (.+)", text)
    why = re.search(r"error occurs again:\n(.+)", text)
    stage = re.search(r"Diff found in `(\w+)\s+Stage`", text)
    print(json.dumps({"case": case, "pass": bool(ok), "module": where.group(2).strip() if where else None,
                      "stage": stage.group(1).lower() if stage else None, "stopped": why.group(1).strip() if why else None, "error": error, "ms": ms,
                      "log": [ln for ln in text.splitlines() if "Err" in ln or "diff" in ln.lower()][:4]}))


main()
