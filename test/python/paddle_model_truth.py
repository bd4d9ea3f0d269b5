"""The truth for model-source inference on Paddle's model zoo: the state_dict() keys and shapes of
PaddleClas's models (pinned in requirements-nodeps.txt), built with their defaults by the real classes
and factory functions, read in place from site-packages. PaddleClas imports data-loading and
visualisation packages its models never use (OpenCV, scikit-learn, faiss…), which are not installed
(their pins would hold numpy back): empty modules stand in for those imports only.

Usage: paddle_model_truth.py [NAME ...]   (default: every case)
"""
import importlib
import inspect
import os
import json
import logging
import sys
import warnings

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)

NOT_NEEDED = {"cv2", "sklearn", "faiss", "visualdl", "easydict", "prettytable", "ujson", "scipy", "matplotlib",
              "rarfile", "gast", "pandas", "skimage", "six"}


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stand_ins  # noqa: E402

stand_ins.install(NOT_NEEDED)

import paddle  # noqa: E402

paddle.set_device("cpu")

ZOO = "paddleclas.ppcls.arch.backbone."
# name: (module, class or factory function)
CASES = {
    "vit": ("model_zoo.vision_transformer", "VisionTransformer"),
    "vit_b16": ("model_zoo.vision_transformer", "ViT_base_patch16_224"),
    "resnet50": ("legendary_models.resnet", "ResNet50"),
    "pplcnet": ("legendary_models.pp_lcnet", "PPLCNet_x1_0"),
    "vgg16": ("legendary_models.vgg", "VGG16"),
    "convnext": ("model_zoo.convnext", "ConvNeXt_tiny"),
    "mobilenetv3": ("legendary_models.mobilenet_v3", "MobileNetV3_small_x1_0"),
    "swin": ("legendary_models.swin_transformer", "SwinTransformer_tiny_patch4_window7_224"),
}


def case(name):
    module, root = CASES[name]
    mod = importlib.import_module(ZOO + module)
    model = getattr(mod, root)()
    return {"name": name, "file": inspect.getsourcefile(mod), "class": root,
            "default": {k: list(v.shape) for k, v in model.state_dict().items()}}


if __name__ == "__main__":
    names = sys.argv[1:] or list(CASES)
    json.dump([case(n) for n in names], sys.stdout)
