"""The truth for model-source inference: the state_dict() keys and shapes of real transformers model
classes, built by the pinned transformers (test/python/requirements.txt) on the meta device (no
memory, no weights downloaded), once with the configuration class's defaults and once with a config
that changes layer counts, sizes and switches. Prints JSON: one case per class, with the installed
modeling file the class is defined in (read in place by the tests, never copied).

Usage: model_truth.py [NAME ...]   (default: every case)
       model_truth.py --names        (the case names, one a line)
"""
import inspect
import json
import sys
import warnings

warnings.filterwarnings("ignore")

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers.utils import logging  # noqa: E402

logging.set_verbosity_error()

# name: (module, class, config class, config changes). The changes move counts and sizes off the
# defaults (so a config.json must be read to be right) and flip switches that add or remove keys.
CASES = {
    "bert": ("bert", "BertModel", "BertConfig", {"num_hidden_layers": 2, "vocab_size": 1000, "add_cross_attention": True, "is_decoder": True}),
    "roberta": ("roberta", "RobertaModel", "RobertaConfig", {"num_hidden_layers": 2, "vocab_size": 1000}),
    "vit": ("vit", "ViTModel", "ViTConfig", {"num_hidden_layers": 2, "image_size": 64, "patch_size": 8}),
    "deit": ("deit", "DeiTModel", "DeiTConfig", {"num_hidden_layers": 2, "image_size": 64}),
    "beit": ("beit", "BeitModel", "BeitConfig", {"num_hidden_layers": 2, "use_relative_position_bias": True}),
    "dinov2": ("dinov2", "Dinov2Model", "Dinov2Config", {"num_hidden_layers": 2, "layerscale_value": 1.0}),
    "clip": ("clip", "CLIPModel", "CLIPConfig", {"projection_dim": 64, "text_config": {"num_hidden_layers": 2}, "vision_config": {"num_hidden_layers": 2}}),
    "clip_text": ("clip", "CLIPTextModel", "CLIPTextConfig", {"num_hidden_layers": 2, "vocab_size": 1000}),
    "clip_vision": ("clip", "CLIPVisionModel", "CLIPVisionConfig", {"num_hidden_layers": 2, "image_size": 64}),
    "siglip": ("siglip", "SiglipModel", "SiglipConfig", {"text_config": {"num_hidden_layers": 2}, "vision_config": {"num_hidden_layers": 2}}),
    "t5": ("t5", "T5Model", "T5Config", {"num_layers": 2, "num_decoder_layers": 3, "feed_forward_proj": "gated-gelu"}),
    "bart": ("bart", "BartModel", "BartConfig", {"encoder_layers": 2, "decoder_layers": 3, "vocab_size": 1000}),
    "whisper": ("whisper", "WhisperModel", "WhisperConfig", {"encoder_layers": 2, "decoder_layers": 2}),
    "gpt2": ("gpt2", "GPT2LMHeadModel", "GPT2Config", {"n_layer": 2, "vocab_size": 1000}),
    "gpt_neox": ("gpt_neox", "GPTNeoXModel", "GPTNeoXConfig", {"num_hidden_layers": 2, "vocab_size": 1000}),
    "bloom": ("bloom", "BloomModel", "BloomConfig", {"n_layer": 2, "vocab_size": 1000}),
    "falcon": ("falcon", "FalconModel", "FalconConfig", {"num_hidden_layers": 2, "new_decoder_architecture": True, "num_kv_heads": 2}),
    "opt": ("opt", "OPTModel", "OPTConfig", {"num_hidden_layers": 2, "vocab_size": 1000}),
    "llama": ("llama", "LlamaForCausalLM", "LlamaConfig", {"num_hidden_layers": 2, "num_key_value_heads": 8, "vocab_size": 1000}),
    "mistral": ("mistral", "MistralModel", "MistralConfig", {"num_hidden_layers": 2}),
    "mixtral": ("mixtral", "MixtralModel", "MixtralConfig", {"num_hidden_layers": 2, "num_local_experts": 4}),
    "qwen2": ("qwen2", "Qwen2Model", "Qwen2Config", {"num_hidden_layers": 2}),
    "gemma": ("gemma", "GemmaModel", "GemmaConfig", {"num_hidden_layers": 2}),
    "phi": ("phi", "PhiModel", "PhiConfig", {"num_hidden_layers": 2}),
    "swin": ("swin", "SwinModel", "SwinConfig", {"depths": [2, 2, 2, 2]}),
    "convnext": ("convnext", "ConvNextModel", "ConvNextConfig", {"depths": [2, 2, 2, 2]}),
    "resnet": ("resnet", "ResNetModel", "ResNetConfig", {"depths": [2, 2, 2, 2]}),
    "wav2vec2": ("wav2vec2", "Wav2Vec2Model", "Wav2Vec2Config", {"num_hidden_layers": 2}),
}


def keys_of(cls, config):
    with torch.device("meta"):
        model = cls(config)
    return {k: list(v.shape) for k, v in model.state_dict().items()}


def case(name):
    module, cls_name, cfg_name, changes = CASES[name]
    mod = __import__(f"transformers.models.{module}.modeling_{module}", fromlist=[cls_name])
    cfg_mod = __import__(f"transformers.models.{module}.configuration_{module}", fromlist=[cfg_name])
    cls, cfg_cls = getattr(mod, cls_name), getattr(cfg_mod, cfg_name)
    given = cfg_cls(**changes)
    return {
        "name": name, "file": inspect.getsourcefile(cls), "class": cls_name,
        "default": keys_of(cls, cfg_cls()),
        "given": {"config": json.loads(given.to_json_string(use_diff=False)), "keys": keys_of(cls, given)},
        "transformers": transformers.__version__,
    }


if __name__ == "__main__":
    if sys.argv[1:] == ["--names"]:  # the case names, one a line (for scripts that build the same classes)
        print("\n".join(CASES))
        sys.exit(0)
    names = sys.argv[1:] or list(CASES)
    json.dump([case(n) for n in names], sys.stdout)
