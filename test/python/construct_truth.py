"""The truth for the construct tests (test/unit/source-constructs-a.test.ts): the real state_dict()
keys and shapes of models built the way library code builds them — small files the test writes, and
installed factories (timm's `resnet18`…). torch models are built on the meta device; Paddle ones for
real (they are small). Reads a JSON list of cases (the first argument, else stdin), prints one result per case:

  {"file": PATH, "name": CLASS_OR_FUNCTION, "framework": "torch" | "paddle"}   a file the test wrote
  {"module": "timm.models.resnet", "name": "resnet18"}                          an installed factory

Output: [{"file": the defining file, "name": ..., "keys": [[key, shape], ...]}] in state_dict() order.
"""
import importlib
import importlib.util
import inspect
import json
import os
import sys
import warnings

warnings.filterwarnings("ignore")


def load_file(path):
    spec = importlib.util.spec_from_file_location(f"construct_case_{abs(hash(path))}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # inspect finds the classes' file through it
    spec.loader.exec_module(mod)
    return mod


def build(case):
    fw = case.get("framework", "torch")
    if fw == "paddle":
        # PaddleClas imports data/visualisation packages its backbones never use: the same stand-ins as
        # paddle_model_truth.py (importing it installs them and puts paddle on the CPU).
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import paddle_model_truth  # noqa: F401
    if "module" in case:
        mod = importlib.import_module(case["module"])
    else:
        mod = load_file(case["file"])
    obj = getattr(mod, case["name"])
    if fw == "paddle":
        model = obj()
    else:
        import torch
        with torch.device("meta"):
            model = obj()
    keys = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    return {"file": inspect.getsourcefile(obj), "name": case["name"], "keys": keys}


if __name__ == "__main__":
    cases = json.loads(sys.argv[1]) if len(sys.argv) > 1 else json.load(sys.stdin)
    json.dump([build(c) for c in cases], sys.stdout)
