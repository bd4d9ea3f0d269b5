"""The real state_dict() of user model files built on installed packages' layers, for
test/unit/source-pyenv.test.ts: each argument is FILE::NAME::FRAMEWORK (a class or a factory
function); torch models are built on the meta device, Paddle's for real (they are small). Prints one
JSON object: {"FILE::NAME": [[key, shape], …]} in state_dict() order. timm imports torchvision, which
the test environment does not install: an empty stand-in takes its place (stand_ins.py)."""
import importlib.util
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stand_ins  # noqa: E402

stand_ins.install({"torchvision"})

out = {}
for arg in sys.argv[1:]:
    path, name, framework = arg.split("::")
    spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if framework == "torch":
        import torch

        with torch.device("meta"):
            model = getattr(module, name)()
    else:
        model = getattr(module, name)()
    out[f"{path}::{name}"] = [[k, list(v.shape)] for k, v in model.state_dict().items()]
print(json.dumps(out))
