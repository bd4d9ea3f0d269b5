"""One model of the probe, PyTorch or Paddle, behind the few operations the probe needs: its state keys,
loading tensors in memory, device and dtype, hooks on every module, tensors to and from NumPy, gradients.
Works with torch >= 1.13 and Paddle >= 2.5 (only long-standing APIs are used).
"""
import inspect
import os
import sys

import numpy as np

HALF = {"fp16": "float16", "bf16": "bfloat16"}


def framework_of(obj):
    """'torch' or 'paddle' for a module (by its class hierarchy), else None."""
    for cls in type(obj).__mro__:
        mod = getattr(cls, "__module__", "") or ""
        if cls.__name__ == "Module" and mod.startswith("torch.nn"):
            return "torch"
        if cls.__name__ == "Layer" and mod.startswith("paddle"):
            return "paddle"
    return None


_sources = {}


def source_of(obj):
    """Where a module's class is defined: {"file", "line", "class"}, or just the class when Python cannot say."""
    cls = type(obj)
    if cls in _sources:
        return _sources[cls]
    out = _sources[cls] = {"class": cls.__name__}
    try:
        out["file"] = inspect.getsourcefile(cls)
        out["line"] = inspect.getsourcelines(cls)[1]
    except (TypeError, OSError):
        pass
    return out


class Side:
    """One model: `role` is "reference" or "candidate"."""

    def __init__(self, role, model, kind):
        self.role = role
        self.model = model
        self.kind = kind
        self.device = "cpu"
        # {checkpoint key: model key} where the framework's loader renamed (transformers >= 5): the mapping's
        # rules name checkpoint keys, the model's modules the renamed ones.
        self.renames = {}

    # ---- structure -------------------------------------------------------------------------------
    def named_modules(self):
        if self.kind == "torch":
            return list(self.model.named_modules())
        return list(self.model.named_sublayers(include_self=True))

    def state_shapes(self):
        return {k: [int(d) for d in v.shape] for k, v in self.model.state_dict().items()}

    def named_parameters(self):
        return list(self.model.named_parameters())

    # ---- weights ---------------------------------------------------------------------------------
    def load(self, state):
        """Loads {key: ndarray} in memory; the caller has checked keys and shapes."""
        if self.kind == "torch":
            import torch
            own = self.model.state_dict()
            tensors = {k: torch.from_numpy(np.ascontiguousarray(v)).to(own[k].dtype) for k, v in state.items()}
            self.model.load_state_dict(tensors, strict=True)
        else:
            import paddle
            own = self.model.state_dict()
            # set_state_dict casts to each parameter's dtype; arrays go in as they are.
            with paddle.no_grad():
                for k, v in state.items():
                    own[k].set_value(v.astype(_paddle_np_dtype(own[k]), copy=False))

    def set_device_dtype(self, device, dtype):
        self.device = device
        if self.kind == "torch":
            import torch
            self.model.to(torch.device(device))
            if dtype in HALF:
                self.model.to(getattr(torch, HALF[dtype]))
        elif dtype in HALF:
            self.model.to(dtype=HALF[dtype])

    def eval(self):
        self.model.eval()

    # ---- hooks -----------------------------------------------------------------------------------
    def hook(self, module, pre, post):
        if self.kind == "torch":
            return [module.register_forward_pre_hook(pre), module.register_forward_hook(post)]
        return [module.register_forward_pre_hook(pre), module.register_forward_post_hook(post)]

    # ---- tensors ---------------------------------------------------------------------------------
    def is_float(self, x):
        if self.kind == "torch":
            import torch
            return isinstance(x, torch.Tensor) and x.is_floating_point()
        import paddle
        return isinstance(x, paddle.Tensor) and paddle.is_floating_point(x)

    def is_tensor(self, x):
        if self.kind == "torch":
            import torch
            return isinstance(x, torch.Tensor)
        import paddle
        return isinstance(x, paddle.Tensor)

    def dtype_name(self, t):
        return str(t.dtype).replace("torch.", "").replace("paddle.", "").lower()

    def keep(self, t):
        return t.detach()

    def version(self, t):
        """The tensor's in-place version counter (shared with what it was detached from), or None."""
        v = getattr(t, "_version" if self.kind == "torch" else "inplace_version", None)
        return v if isinstance(v, int) else None

    def cpu_threads(self):
        """How many threads this framework computes a CPU pass on: torch's intra-op pool; Paddle's OpenMP
        threads (Paddle sets OMP_NUM_THREADS=1 when it is unset)."""
        if self.kind == "torch":
            import torch
            return torch.get_num_threads()
        try:
            return max(1, int(os.environ.get("OMP_NUM_THREADS") or 1))
        except ValueError:
            return 1

    def dlpack(self, t):
        """A Paddle tensor as a torch tensor on the same memory (torch.utils.dlpack), or None."""
        import torch.utils.dlpack
        import paddle.utils.dlpack
        try:
            return torch.utils.dlpack.from_dlpack(paddle.utils.dlpack.to_dlpack(t))
        except Exception:  # noqa: BLE001 - a dtype or device DLPack cannot carry: the caller copies through NumPy
            return None

    def numpy(self, t):
        if self.kind == "torch":
            import torch
            t = t.detach()
            if t.dtype == torch.bfloat16:
                t = t.float()
            return t.cpu().numpy()
        t = t.detach()
        if "bfloat16" in str(t.dtype):
            t = t.astype("float32")
        return t.numpy()

    def tensor(self, a, dtype=None):
        """An ndarray as this side's tensor on its device; floats cast to `dtype` (fp16/bf16) when given."""
        if self.kind == "torch":
            import torch
            t = torch.from_numpy(np.ascontiguousarray(a)).to(torch.device(self.device))
            if dtype in HALF and t.is_floating_point():
                t = t.to(getattr(torch, HALF[dtype]))
            return t
        import paddle
        t = paddle.to_tensor(np.ascontiguousarray(a))
        if dtype in HALF and paddle.is_floating_point(t):
            t = t.astype(HALF[dtype])
        return t

    def no_grad(self):
        if self.kind == "torch":
            import torch
            return torch.no_grad()
        import paddle
        return paddle.no_grad()

    def forward_params(self):
        try:
            return list(inspect.signature(self.model.forward).parameters)
        except (TypeError, ValueError):
            return []

    def scalar_loss(self, out, weights):
        """sum(out * weights): the same random projection of the first output on both sides."""
        w = self.tensor(weights)
        if self.kind == "torch":
            return (out.float() * w).sum()
        return (out.astype("float32") * w).sum()

    def backward(self, loss):
        loss.backward()

    def gradients(self):
        """{key: gradient}, keyed by the checkpoint's names where the loader renamed (the rules' names)."""
        back = {v: k for k, v in self.renames.items()}
        out = {}
        for k, p in self.named_parameters():
            g = p.grad
            if g is not None:
                out[back.get(k, k)] = self.numpy(g)
        return out

    def sync(self):
        if self.kind == "torch" and self.device.startswith("cuda"):
            import torch
            torch.cuda.synchronize()
        elif self.kind == "paddle" and self.device.startswith("gpu"):
            import paddle
            paddle.device.cuda.synchronize()


def _paddle_np_dtype(t):
    name = str(t.dtype).replace("paddle.", "").lower()
    return {"bfloat16": "float32"}.get(name, name)


def cuda_available(kinds):
    if "torch" in kinds:
        import torch
        if torch.cuda.is_available():
            return True
    if "paddle" in kinds:
        import paddle
        try:
            return paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0
        except Exception:  # noqa: BLE001 - an odd build: no GPU
            return False
    return False


def versions(kinds):
    out = {"python": sys.version.split()[0]}
    if "torch" in kinds:
        import torch
        out["torch"] = torch.__version__
    if "paddle" in kinds:
        import paddle
        out["paddle"] = paddle.__version__
    return out
