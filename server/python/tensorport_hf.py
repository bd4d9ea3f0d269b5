"""Weights into a Hugging Face transformers model the way transformers loads them.

transformers >= 5 renames (and may fuse or split) checkpoint tensors while loading: a ViTModel holds
`layers.0.attention.q_proj.weight` in memory, while `save_pretrained` writes (and the Hub keeps)
`encoder.layer.0.attention.attention.query.weight` — the model's conversion rules
(transformers/conversion_mapping.py) are applied on load and reversed on save. A checkpoint loaded with a
plain `load_state_dict` therefore misses every renamed key. Here the checkpoint goes through transformers'
own loader (`convert_and_load_state_dict_in_model` with `get_model_conversion_mapping(model)`, what
`from_pretrained` calls), and each checkpoint key's in-memory name comes from its `rename_source_key`, so
the mapping's rules (written against the checkpoint's names) still pair the modules.

Everything here is optional: without transformers, or with a transformers whose loader lacks these
functions (4.x has no renames to apply), `load()` returns None and the caller loads the plain way.
"""


def is_transformers_model(model):
    for cls in type(model).__mro__:
        if cls.__name__ == "PreTrainedModel" and (getattr(cls, "__module__", "") or "").startswith("transformers"):
            return True
    return False


def _loader():
    try:
        from transformers.conversion_mapping import get_model_conversion_mapping
        from transformers.core_model_loading import WeightConverter, WeightRenaming, convert_and_load_state_dict_in_model, rename_source_key
        from transformers.modeling_utils import LoadStateDictConfig
    except ImportError:
        return None
    return get_model_conversion_mapping, WeightConverter, WeightRenaming, convert_and_load_state_dict_in_model, rename_source_key, LoadStateDictConfig


def load(model, state):
    """Loads {checkpoint key: ndarray} into `model` through transformers' loader. Returns
    (renames {checkpoint key: model key} for the keys it renamed, missing model keys, unexpected checkpoint
    keys, [(key, checkpoint shape, model shape)] of mismatched sizes), or None where this transformers has
    no such loader."""
    parts = _loader()
    if parts is None:
        return None
    get_mapping, Converter, Renaming, convert_and_load, rename_key, Config = parts
    import numpy as np
    import torch
    mapping = get_mapping(model)
    renamings = [w for w in mapping if isinstance(w, Renaming)]
    converters = [w for w in mapping if isinstance(w, Converter)]
    own = model.state_dict()
    renames = {}
    for k in state:
        new, _ = rename_key(k, renamings, converters, getattr(model, "base_model_prefix", None), own)
        if new != k:
            renames[k] = new
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}
    info = convert_and_load(model, tensors, Config(weight_mapping=mapping))
    info = info[0] if isinstance(info, tuple) else info
    mismatched = []
    for m in getattr(info, "mismatched_keys", ()) or ():
        # transformers records (key, checkpoint shape, model shape) or the key alone, by version.
        mismatched.append(tuple(m) if isinstance(m, (tuple, list)) else (m, None, None))
    return (renames, sorted(getattr(info, "missing_keys", ()) or ()), sorted(getattr(info, "unexpected_keys", ()) or ()), mismatched)
