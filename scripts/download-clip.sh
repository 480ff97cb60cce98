#!/usr/bin/env bash
# OPTIONAL. Downloads the CLIP ViT-B/32 ONNX export (the original system's encoder) into models/clip-vit-base-patch32/.
# DSDC does not need it: the default encoder (resnet18-minilm) ships with the build and works offline.
# Run it on a machine with internet access, then copy the folder to the same place under the target's models
# directory (Dsdc:ModelsDir) if that machine is offline, and set Embedding__Encoder=clip-vit-base-patch32.
# Usage: scripts/download-clip.sh [MODELS_DIR]      (default: models/ at the repository root; about 600 MB)
# CLIP_ONNX_BASE_URL overrides where the files come from (a mirror of the same repository layout).
set -euo pipefail
# MODELS_DIR is relative to where the script is run from.
models_dir=$(mkdir -p "${1:-$(dirname "$0")/../models}" && cd "${1:-$(dirname "$0")/../models}" && pwd)
cd "$(dirname "$0")/.."
target="$models_dir/clip-vit-base-patch32"
base="${CLIP_ONNX_BASE_URL:-https://huggingface.co/Xenova/clip-vit-base-patch32/resolve/main}"
files=(onnx/vision_model.onnx onnx/text_model.onnx vocab.json merges.txt tokenizer.json preprocessor_config.json)

command -v curl >/dev/null || { echo "download-clip: curl is required" >&2; exit 1; }
mkdir -p "$target/onnx"
for f in "${files[@]}"; do
  if [ -s "$target/$f" ]; then
    echo "download-clip: $f already there"
    continue
  fi
  echo "download-clip: fetching $f"
  # Into a temporary name first: an interrupted download never looks like an installed model.
  curl -fL --retry 3 --progress-bar -o "$target/$f.part" "$base/$f"
  mv "$target/$f.part" "$target/$f"
done
echo "download-clip: CLIP ViT-B/32 is in $target; start DSDC with Embedding__Encoder=clip-vit-base-patch32 to use it."
