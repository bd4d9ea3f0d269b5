"""What huggingface_hub itself reads from a Hub endpoint (HF_ENDPOINT): for the remote-checkpoint tests.

Usage: hub_truth.py REPO [FILE CACHE_DIR]
Prints JSON: get_safetensors_metadata(REPO) as {"commit", "files": {file: {key: [dtype, shape]}}}, and,
with FILE, the path hf_hub_download wrote it to and that file's commit folder.
"""
import json
import sys

from huggingface_hub import get_safetensors_metadata, hf_hub_download

repo = sys.argv[1]
meta = get_safetensors_metadata(repo)
out = {
    "files": {
        name: {k: [t.dtype, list(t.shape)] for k, t in fm.tensors.items()}
        for name, fm in meta.files_metadata.items()
    },
    "weight_map": meta.weight_map,
}
if len(sys.argv) > 2:
    path = hf_hub_download(repo, sys.argv[2], cache_dir=sys.argv[3])
    out["download"] = path
print(json.dumps(out))
