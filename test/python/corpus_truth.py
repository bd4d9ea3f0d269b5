"""The truth for the model-source corpus: the state_dict() of real classes from the pinned libraries —
transformers, timm, open_clip (torch, built on the meta device), PaddleClas, PaddleFormers and PaddleNLP
(Paddle, built on the CPU) — chosen as a porter meets them: varied families, heads, factory functions.
Each case gives the installed source file the class or factory is defined in (the tests read it in
place), its defaults' keys in order with shape and dtype, and, where the class takes a config, the same
under a changed config as `save_pretrained` writes it (`to_json_string(use_diff=False)`).

It keeps the classes of model_truth.py and paddle_model_truth.py and adds many the tests never read.
The libraries do not share one process: PaddleFormers switches transformers' torch support off when
imported, and each Paddle library needs its own stand-ins, so every library is built in a child process.

Usage: corpus_truth.py [NAME ...]   (default: every case; NAME is `library/name`, e.g. hf/albert)
"""
import ast
import importlib
import inspect
import json
import os
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# Three labels off the default two: the classifier's rows follow id2label.
LABELS3 = {"id2label": {"0": "a", "1": "b", "2": "c"}}

# transformers: name: (module under transformers.models, class, config changes or None). The config
# class is the model class's own `config_class`; a module with a dot names the modeling file itself.
HF = {
    "albert_cls": ("albert", "AlbertForSequenceClassification", {"num_hidden_layers": 2, "num_hidden_groups": 2, "inner_group_num": 2, **LABELS3}),
    "distilbert_cls": ("distilbert", "DistilBertForSequenceClassification", {"n_layers": 2, "dim": 256, "hidden_dim": 512, "n_heads": 4, **LABELS3}),
    "electra_pretrain": ("electra", "ElectraForPreTraining", {"num_hidden_layers": 2, "embedding_size": 64}),
    "deberta_v2": ("deberta_v2", "DebertaV2Model", {"num_hidden_layers": 2, "relative_attention": True, "position_biased_input": False, "pos_att_type": ["p2c", "c2p"]}),
    "xlm_roberta_cls": ("xlm_roberta", "XLMRobertaForSequenceClassification", {"num_hidden_layers": 2, **LABELS3}),
    "mpnet": ("mpnet", "MPNetModel", {"num_hidden_layers": 2}),
    "convbert": ("convbert", "ConvBertModel", {"num_hidden_layers": 2, "head_ratio": 4, "conv_kernel_size": 5}),
    "layoutlm": ("layoutlm", "LayoutLMModel", {"num_hidden_layers": 2, "max_2d_position_embeddings": 512}),
    "longformer": ("longformer", "LongformerModel", {"num_hidden_layers": 2, "attention_window": 64}),
    "big_bird": ("big_bird", "BigBirdModel", {"num_hidden_layers": 2, "attention_type": "original_full"}),
    "mt5": ("mt5", "MT5ForConditionalGeneration", {"num_layers": 2, "num_decoder_layers": 1}),
    "umt5": ("umt5", "UMT5Model", {"num_layers": 2, "feed_forward_proj": "gated-gelu"}),
    "t5_lm": ("t5", "T5ForConditionalGeneration", {"num_layers": 2, "feed_forward_proj": "gated-silu", "tie_word_embeddings": False}),
    "pegasus": ("pegasus", "PegasusModel", {"encoder_layers": 2, "decoder_layers": 1, "vocab_size": 1000}),
    "marian": ("marian", "MarianMTModel", {"encoder_layers": 2, "decoder_layers": 2, "vocab_size": 1000, "pad_token_id": 0, "decoder_start_token_id": 0, "share_encoder_decoder_embeddings": False}),
    "m2m_100": ("m2m_100", "M2M100Model", {"encoder_layers": 2, "decoder_layers": 2, "vocab_size": 1000}),
    "mbart_lm": ("mbart", "MBartForConditionalGeneration", {"encoder_layers": 2, "decoder_layers": 2, "vocab_size": 1000}),
    "led": ("led", "LEDModel", {"encoder_layers": 2, "decoder_layers": 2}),
    "prophetnet": ("prophetnet", "ProphetNetModel", {"num_encoder_layers": 2, "num_decoder_layers": 2}),
    "gptj": ("gptj", "GPTJModel", {"n_layer": 2, "rotary_dim": 32}),
    "codegen": ("codegen", "CodeGenModel", {"n_layer": 2}),
    "gpt_neo": ("gpt_neo", "GPTNeoModel", {"num_layers": 4, "attention_types": [[["global", "local"], 2]]}),
    "qwen2_moe": ("qwen2_moe", "Qwen2MoeModel", {"num_hidden_layers": 2, "num_experts": 4, "decoder_sparse_step": 2, "mlp_only_layers": [1]}),
    "qwen3_lm": ("qwen3", "Qwen3ForCausalLM", {"num_hidden_layers": 2, "tie_word_embeddings": True}),
    "gemma2": ("gemma2", "Gemma2Model", {"num_hidden_layers": 2}),
    "gemma3_text": ("gemma3", "Gemma3ForCausalLM", {"num_hidden_layers": 2}),
    "phi3": ("phi3", "Phi3Model", {"num_hidden_layers": 2}),
    "stablelm": ("stablelm", "StableLmModel", {"num_hidden_layers": 2, "use_qkv_bias": True, "qk_layernorm": True}),
    "starcoder2": ("starcoder2", "Starcoder2Model", {"num_hidden_layers": 2, "use_bias": False}),
    "olmo": ("olmo", "OlmoModel", {"num_hidden_layers": 2}),
    "cohere": ("cohere", "CohereModel", {"num_hidden_layers": 2, "use_qk_norm": True}),
    "granite": ("granite", "GraniteModel", {"num_hidden_layers": 2}),
    "olmo2": ("olmo2", "Olmo2Model", {"num_hidden_layers": 2}),
    "mamba": ("mamba", "MambaModel", {"num_hidden_layers": 2, "use_conv_bias": False}),
    "rwkv": ("rwkv", "RwkvModel", {"num_hidden_layers": 2}),
    "mistral_lm": ("mistral", "MistralForCausalLM", {"num_hidden_layers": 2}),
    "llama_cls": ("llama", "LlamaForSequenceClassification", {"num_hidden_layers": 2, **LABELS3}),
    "bert_cls": ("bert", "BertForSequenceClassification", {"num_hidden_layers": 2, **LABELS3}),
    "bart_lm": ("bart", "BartForConditionalGeneration", {"encoder_layers": 2, "decoder_layers": 2}),
    "funnel": ("funnel", "FunnelModel", {"block_sizes": [1, 1, 1]}),
    "xlnet": ("xlnet", "XLNetModel", {"n_layer": 2}),
    "roformer": ("roformer", "RoFormerModel", {"num_hidden_layers": 2, "embedding_size": 128}),
    "mobilebert": ("mobilebert", "MobileBertModel", {"num_hidden_layers": 2, "num_feedforward_networks": 2}),
    "fnet": ("fnet", "FNetModel", {"num_hidden_layers": 2}),
    "segformer": ("segformer", "SegformerForSemanticSegmentation", {"depths": [1, 1, 1, 1], **LABELS3}),
    "dpt": ("dpt", "DPTForDepthEstimation", {"num_hidden_layers": 4, "backbone_out_indices": [0, 1, 2, 3]}),
    "mobilevit": ("mobilevit", "MobileViTModel", {"expand_ratio": 2.0}),
    "levit_teacher": ("levit", "LevitForImageClassificationWithTeacher", {"depths": [2, 2, 2]}),
    "poolformer": ("poolformer", "PoolFormerModel", {"depths": [1, 1, 1, 1]}),
    "regnet": ("regnet", "RegNetModel", {"depths": [1, 1, 1, 1]}),
    "efficientnet": ("efficientnet", "EfficientNetModel", {"depth_coefficient": 1.1, "width_coefficient": 1.0}),
    "convnextv2": ("convnextv2", "ConvNextV2Model", {"depths": [1, 1, 1, 1]}),
    "swinv2": ("swinv2", "Swinv2Model", {"depths": [1, 1, 1, 1]}),
    "vit_mae": ("vit_mae", "ViTMAEForPreTraining", {"num_hidden_layers": 2, "decoder_num_hidden_layers": 1}),
    "deit_teacher": ("deit", "DeiTForImageClassificationWithTeacher", {"num_hidden_layers": 2, **LABELS3}),
    "beit_cls": ("beit", "BeitForImageClassification", {"num_hidden_layers": 2, "use_mean_pooling": False}),
    "data2vec_vision": ("data2vec.modeling_data2vec_vision", "Data2VecVisionModel", {"num_hidden_layers": 2}),
    "hubert": ("hubert", "HubertModel", {"num_hidden_layers": 2, "do_stable_layer_norm": True, "feat_extract_norm": "layer"}),
    "wavlm": ("wavlm", "WavLMModel", {"num_hidden_layers": 2}),
    "sew": ("sew", "SEWModel", {"num_hidden_layers": 2}),
    "speecht5_tts": ("speecht5", "SpeechT5ForTextToSpeech", {"encoder_layers": 2, "decoder_layers": 2}),
    "blip_caption": ("blip", "BlipForConditionalGeneration", {"vision_config": {"num_hidden_layers": 2}, "text_config": {"num_hidden_layers": 2}}),
    "owlvit_det": ("owlvit", "OwlViTForObjectDetection", {"vision_config": {"num_hidden_layers": 2}, "text_config": {"num_hidden_layers": 2}}),
    "groupvit": ("groupvit", "GroupViTModel", {"text_config": {"num_hidden_layers": 2}}),
    "x_clip": ("x_clip", "XCLIPModel", {"text_config": {"num_hidden_layers": 2}, "vision_config": {"num_hidden_layers": 2}}),
    "chinese_clip": ("chinese_clip", "ChineseCLIPModel", {"text_config": {"num_hidden_layers": 2}, "vision_config": {"num_hidden_layers": 2}}),
    "altclip": ("altclip", "AltCLIPModel", {"text_config": {"num_hidden_layers": 2}, "vision_config": {"num_hidden_layers": 2}}),
    "vilt": ("vilt", "ViltModel", {"num_hidden_layers": 2}),
    "lxmert": ("lxmert", "LxmertModel", {"l_layers": 2, "x_layers": 2, "r_layers": 2}),
}

# timm: name: (module under timm.models, factory function or class with defaults).
TIMM = {n: (m, n) for m, ns in {
    "vision_transformer": ["vit_tiny_patch16_224", "VisionTransformer"],
    "deit": ["deit_tiny_distilled_patch16_224"],
    "resnet": ["resnet18", "resnet50d"],
    "efficientnet": ["efficientnet_b0"],
    "convnext": ["convnext_atto"],
    "swin_transformer": ["swin_tiny_patch4_window7_224"],
    "regnet": ["regnetx_002"],
    "mobilenetv3": ["mobilenetv3_small_100"],
    "levit": ["levit_128s"],
    "coat": ["coat_tiny"],
    "cait": ["cait_xxs24_224"],
    "pit": ["pit_ti_224"],
    "twins": ["twins_svt_small"],
    "mlp_mixer": ["mixer_s16_224", "resmlp_12_224"],
    "densenet": ["densenet121"],
    "ghostnet": ["ghostnet_100"],
    "dla": ["dla34"],
    "edgenext": ["edgenext_xx_small"],
    "metaformer": ["poolformer_s12"],
}.items() for n in ns}

# open_clip: name: (module, class with defaults).
OPEN_CLIP = {"text_transformer": ("transformer", "TextTransformer")}

# PaddleClas: factory functions the backbone package exports (beside paddle_model_truth.py's eight).
CLAS = ["ResNet18", "ResNet101", "ResNeXt50_32x4d", "Res2Net50_26w_4s", "MobileNetV1", "MobileNetV2", "DenseNet121",
        "EfficientNetB0", "GhostNet_x1_0", "DarkNet53", "HRNet_W18_C", "InceptionV3", "Xception41", "DeiT_tiny_patch16_224",
        "PVT_V2_B0", "RepVGG_A0", "LeViT_128S", "PPHGNet_tiny", "ESNet_x1_0", "MixNet_S", "DLA34", "RedNet26", "CSPDarkNet53"]

# PaddleFormers / PaddleNLP: name: (family module, class, config for the defaults (None: the config
# class's own), config changes). LLM defaults are billions of parameters, too many to build on a CPU:
# those cases are built small and have no `default` truth, only `given`.
SMALL_LLM = {"num_hidden_layers": 2, "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 1000}
PF = {
    "llama": ("llama", "LlamaModel", SMALL_LLM),
    "llama_lm": ("llama", "LlamaForCausalLM", SMALL_LLM),
    "qwen2": ("qwen2", "Qwen2Model", SMALL_LLM),
    "qwen3": ("qwen3", "Qwen3Model", {**SMALL_LLM, "head_dim": 16}),
    "qwen2_moe": ("qwen2_moe", "Qwen2MoeModel", {**SMALL_LLM, "num_experts": 4, "moe_intermediate_size": 32, "shared_expert_intermediate_size": 64}),
    "ernie4_5": ("ernie4_5", "Ernie4_5Model", {**SMALL_LLM, "head_dim": 16}),
    "ernie4_5_lm": ("ernie4_5", "Ernie4_5ForCausalLM", {**SMALL_LLM, "head_dim": 16}),
    "gemma3_text": ("gemma3_text", "Gemma3TextModel", {**SMALL_LLM, "head_dim": 16}),
    "phi3": ("phi3", "Phi3Model", SMALL_LLM),
    "gpt_oss": ("gpt_oss", "GptOssModel", {**SMALL_LLM, "head_dim": 16, "num_local_experts": 4}),
    "qwen3_moe": ("qwen3_moe", "Qwen3MoeModel", {**SMALL_LLM, "head_dim": 16, "num_experts": 4, "moe_intermediate_size": 32}),
}
NLP = {
    "bert": ("bert", "BertModel", None, {"num_hidden_layers": 2, "vocab_size": 1000}),
    "ernie": ("ernie", "ErnieModel", None, {"num_hidden_layers": 2, "vocab_size": 1000}),
    "roberta": ("roberta", "RobertaModel", None, {"num_hidden_layers": 2}),
    "electra": ("electra", "ElectraModel", None, {"num_hidden_layers": 2}),
    "albert": ("albert", "AlbertModel", None, {"num_hidden_layers": 2, "num_hidden_groups": 2}),
    "distilbert": ("distilbert", "DistilBertModel", None, {"num_hidden_layers": 2}),
    "mpnet": ("mpnet", "MPNetModel", None, {"num_hidden_layers": 2}),
    "t5": ("t5", "T5Model", None, {"num_layers": 2, "num_decoder_layers": 1, "feed_forward_proj": "gated-gelu"}),
    "bart": ("bart", "BartModel", None, {"num_encoder_layers": 2, "num_decoder_layers": 1}),
    "gpt": ("gpt", "GPTModel", SMALL_LLM, {**SMALL_LLM, "num_hidden_layers": 3}),
    "llama": ("llama", "LlamaForCausalLM", SMALL_LLM, {**SMALL_LLM, "num_hidden_layers": 3}),
    "qwen": ("qwen", "QWenModel", {**SMALL_LLM, "seq_length": 256}, {**SMALL_LLM, "seq_length": 256, "num_hidden_layers": 3}),
    "mixtral": ("mixtral", "MixtralModel", {**SMALL_LLM, "num_local_experts": 4}, {**SMALL_LLM, "num_local_experts": 2}),
    "chatglm_v2": ("chatglm_v2", "ChatGLMv2Model", {"num_layers": 2, "hidden_size": 64, "ffn_hidden_size": 128, "num_attention_heads": 4, "kv_channels": 16, "multi_query_group_num": 2, "padded_vocab_size": 1000}, {"num_layers": 3, "hidden_size": 64, "ffn_hidden_size": 128, "num_attention_heads": 4, "kv_channels": 16, "multi_query_group_num": 2, "padded_vocab_size": 1000}),
    "ernie_m": ("ernie_m", "ErnieMModel", None, {"num_hidden_layers": 2}),
    "xlnet": ("xlnet", "XLNetModel", None, {"n_layer": 2}),
    "bloom": ("bloom", "BloomModel", SMALL_LLM, {**SMALL_LLM, "n_layer": 3}),
    "opt": ("opt", "OPTModel", None, {"num_hidden_layers": 2}),
    "roformer": ("roformer", "RoFormerModel", None, {"num_hidden_layers": 2}),
    "convbert": ("convbert", "ConvBertModel", None, {"num_hidden_layers": 2}),
}

TORCH_DTYPES = {"float32": "F32", "float16": "F16", "bfloat16": "BF16", "float64": "F64", "int64": "I64", "int32": "I32",
                "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL", "complex64": "C64"}


def entries(state_dict):
    return {k: {"shape": list(v.shape), "dtype": TORCH_DTYPES.get(str(v.dtype).split(".")[-1], str(v.dtype))} for k, v in state_dict.items()}


def cases():
    """library → {name: builder args}; the existing suites' cases first."""
    return {
        "transformers": {**{k: (v[0], v[1], v[3]) for k, v in literal_cases("model_truth.py").items()}, **HF},
        "timm": TIMM,
        "open_clip": OPEN_CLIP,
        "paddleclas": {**{k: ("existing", v) for k, v in literal_cases("paddle_model_truth.py").items()}, **{n.lower(): ("backbone", n) for n in CLAS}},
        "paddleformers": PF,
        "paddlenlp": NLP,
    }


def literal_cases(script):
    """The CASES literal of the existing truth scripts, read without importing them (each sets up its framework)."""
    tree = ast.parse(open(os.path.join(HERE, script)).read())
    [node] = [n for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "CASES"]
    return ast.literal_eval(node.value)


# ---- builders, one library per process ---------------------------------------------------------------

def build_torch(make):
    import torch
    try:
        with torch.device("meta"):
            model = make()
    except Exception:  # noqa: BLE001 — a few inits call .item()/.tolist(), which meta tensors refuse
        model = make()
    return entries(model.state_dict())


def run_transformers(names, table):
    from transformers.utils import logging
    logging.set_verbosity_error()
    out = []
    for n in names:
        module, cls_name, changes = table[n]
        modpath = f"transformers.models.{module}" if "." in module else f"transformers.models.{module}.modeling_{module}"
        cls = getattr(importlib.import_module(modpath), cls_name)
        cfg_cls = cls.config_class
        case = {"file": inspect.getsourcefile(cls), "class": cls_name, "default": build_torch(lambda: cls(cfg_cls()))}
        if changes is not None:
            given = cfg_cls(**changes)
            case["given"] = {"config": json.loads(given.to_json_string(use_diff=False)), "keys": build_torch(lambda: cls(given))}
        out.append(case)
    return out


def run_timm(names, table):
    import stand_ins
    stand_ins.install({"torchvision"})
    out = []
    for n in names:
        module, fn = table[n]
        mod = importlib.import_module(f"timm.models.{module}")
        f = getattr(mod, fn)
        out.append({"file": inspect.getsourcefile(f), "class": fn, "default": build_torch(f)})
    return out


def run_open_clip(names, table):
    import stand_ins
    stand_ins.install({"torchvision", "ftfy"})
    out = []
    for n in names:
        module, cls_name = table[n]
        cls = getattr(importlib.import_module(f"open_clip.{module}"), cls_name)
        out.append({"file": inspect.getsourcefile(cls), "class": cls_name, "default": build_torch(cls)})
    return out


def paddle_entries(state_dict):
    return {k: {"shape": list(v.shape), "dtype": TORCH_DTYPES.get(str(v.dtype).split(".")[-1], str(v.dtype))} for k, v in state_dict.items()}


def run_paddleclas(names, table):
    import stand_ins
    stand_ins.install({"cv2", "sklearn", "faiss", "visualdl", "easydict", "prettytable", "ujson", "scipy", "matplotlib",
                       "rarfile", "gast", "pandas", "skimage", "six"})
    import paddle
    paddle.set_device("cpu")
    out = []
    for n in names:
        kind, what = table[n]
        if kind == "existing":
            mod = importlib.import_module("paddleclas.ppcls.arch.backbone." + what[0])
            f = getattr(mod, what[1])
        else:
            f = getattr(importlib.import_module("paddleclas.ppcls.arch.backbone"), what)
        # PaddleClas names parameters itself (`conv1_weights`): each model in a fresh name scope.
        with paddle.utils.unique_name.guard():
            out.append({"file": inspect.getsourcefile(f), "class": f.__name__, "default": paddle_entries(f().state_dict())})
    return out


# What PaddleFormers and PaddleNLP import but building a model never uses: data sets, tokenizers,
# metrics, hub upload, Fleet's distributed model provider (paddlefleet is not on PyPI).
PADDLE_NLP_ABSENT = {"aistudio_sdk", "paddlefleet", "paddlefleet_ops", "ml_dtypes", "omegaconf", "jieba", "sentencepiece",
                     "scipy", "datasets", "multiprocess", "pandas", "seqeval", "nltk", "rouge", "sklearn", "cv2", "tiktoken",
                     "visualdl", "fastapi", "uvicorn", "paddleformers.transformers.gpt_provider"}


def run_paddle_nlp(lib, names, table):
    import stand_ins
    stand_ins.install(PADDLE_NLP_ABSENT)
    import huggingface_hub
    # Removed from huggingface_hub 2.x; both libraries import it for uploading to the hub only.
    huggingface_hub.repo_type_and_id_from_hf_id = lambda *a, **k: None
    import logging
    logging.disable(logging.WARNING)
    import paddle
    paddle.set_device("cpu")
    out = []
    for n in names:
        if lib == "paddleformers":
            family, cls_name, small = table[n]
            base, changes = small, {**small, "num_hidden_layers": 3}
        else:
            family, cls_name, base, changes = table[n]
        mod = importlib.import_module(f"{lib}.transformers.{family}.modeling")
        cls = getattr(mod, cls_name)
        cfg_cls = cls.config_class
        case = {"file": inspect.getsourcefile(cls), "class": cls_name}
        if base is None:
            case["default"] = paddle_entries(cls(cfg_cls()).state_dict())
        given = cfg_cls(**changes)
        case["given"] = {"config": json.loads(given.to_json_string(use_diff=False)), "keys": paddle_entries(cls(cfg_cls(**changes)).state_dict())}
        out.append(case)
    return out


def run_library(lib, names, table):
    if lib == "transformers":
        return run_transformers(names, table)
    if lib == "timm":
        return run_timm(names, table)
    if lib == "open_clip":
        return run_open_clip(names, table)
    if lib == "paddleclas":
        return run_paddleclas(names, table)
    return run_paddle_nlp(lib, names, table)


SHORT = {"transformers": "hf", "timm": "timm", "open_clip": "open_clip", "paddleclas": "clas", "paddleformers": "pf", "paddlenlp": "nlp"}
LONG = {v: k for k, v in SHORT.items()}


def main(argv):
    table = cases()
    if argv[:1] == ["--library"]:
        lib, names = argv[1], argv[2:]
        result = []
        for n in names:
            # One failing class is reported, not fatal: the others still give their truth.
            try:
                [c] = run_library(lib, [n], table[lib])
                result.append({"name": f"{SHORT[lib]}/{n}", "library": lib, **c})
            except Exception as e:  # noqa: BLE001
                result.append({"name": f"{SHORT[lib]}/{n}", "library": lib, "error": f"{type(e).__name__}: {e}"[:300]})
        sys.stdout.write("\n")  # Paddle's libraries log to stdout: the JSON is a line of its own, the last
        json.dump(result, sys.stdout)
        return
    wanted = argv or [f"{SHORT[lib]}/{n}" for lib, t in table.items() for n in t]
    by_lib = {}
    for w in wanted:
        short, _, n = w.partition("/")
        lib = LONG.get(short)
        if lib is None or n not in table[lib]:
            sys.exit(f"no case {w}")
        by_lib.setdefault(lib, []).append(n)
    found = {}
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    for lib, names in by_lib.items():
        r = subprocess.run([sys.executable, os.path.abspath(__file__), "--library", lib, *names], capture_output=True, text=True, env=env)
        if r.returncode != 0:
            sys.exit(f"{lib} failed ({r.returncode}):\n{r.stderr[-3000:]}")
        for c in json.loads(r.stdout.strip().splitlines()[-1]):
            found[c["name"]] = c
    json.dump([found[w] for w in wanted], sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
