"""The truth for test/unit/source-constructs-b.test.ts: the real state_dict() (keys in order, shapes,
dtypes) of models built by the pinned torch / paddle, on torch's meta device where torch builds them.

Usage: constructs_truth.py SPEC_JSON, where SPEC_JSON is a list of cases, each one of
  {"file": PATH, "class": NAME, "framework": "torch"|"paddle", "kwargs": {...}}   a scratch model file the test wrote
                                                      (a "config" kwarg is given as an object: config.NAME reads it)
  {"hf": MODULE, "class": NAME, "config": CONFIG_CLASS, "changes": {...}, "save_to": DIR?}
      an installed transformers class (in modeling_SUFFIX.py, "suffix" defaulting to MODULE), its config made with
      those changes (and written by save_pretrained into DIR)
Prints a JSON list: per case {"file": the class's source file, "keys": [[key, shape, dtype], ...]}.
"""
import importlib.util
import inspect
import json
import sys
import types
import warnings

warnings.filterwarnings("ignore")

DTYPES = {"float32": "F32", "float16": "F16", "bfloat16": "BF16", "float64": "F64", "int64": "I64", "int32": "I32", "bool": "BOOL", "uint8": "U8"}


def dtype_name(dt):
    return DTYPES[str(dt).replace("torch.", "").replace("paddle.", "")]


def load_file(path, name):
    spec = importlib.util.spec_from_file_location(f"scratch_{abs(hash(path))}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return getattr(mod, name)


def torch_keys(model):
    return [[k, list(v.shape), dtype_name(v.dtype)] for k, v in model.state_dict().items()]


def case(c):
    if "file" in c:
        cls = load_file(c["file"], c["class"])
        kwargs = dict(c.get("kwargs", {}))
        if isinstance(kwargs.get("config"), dict):
            kwargs["config"] = types.SimpleNamespace(**kwargs["config"])
        if c.get("framework") == "paddle":
            model = cls(**kwargs)
            return {"file": c["file"], "keys": [[k, list(v.shape), dtype_name(v.dtype)] for k, v in model.state_dict().items()]}
        import torch
        with torch.device("meta"):
            model = cls(**kwargs)
        return {"file": c["file"], "keys": torch_keys(model)}
    import torch
    from transformers.utils import logging
    logging.set_verbosity_error()
    module, suffix = c["hf"], c.get("suffix", c["hf"])
    mod = __import__(f"transformers.models.{module}.modeling_{suffix}", fromlist=[c["class"]])
    cfg_mod = __import__(f"transformers.models.{module}.configuration_{suffix}", fromlist=[c["config"]])
    cls, cfg_cls = getattr(mod, c["class"]), getattr(cfg_mod, c["config"])
    cfg = cfg_cls(**c.get("changes", {}))
    if "save_to" in c:
        cfg.save_pretrained(c["save_to"])
    with torch.device("meta"):
        model = cls(cfg)
    return {"file": inspect.getsourcefile(cls), "keys": torch_keys(model)}


if __name__ == "__main__":
    json.dump([case(c) for c in json.loads(sys.argv[1])], sys.stdout)
