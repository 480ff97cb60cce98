#!/usr/bin/env bash
# Downloads a sample of the public RVL-CDIP dataset (research use only) into the layout DSDC reads everywhere:
# DEST/<index>_<name>/<file>. Needs internet access, curl and python3; nothing in DSDC needs it to run.
# Then point Pipeline:MockArrivals:CorpusDir at DEST (simulated arrivals) or run `evaluate DEST`.
# Usage: scripts/download-rvl-sample.sh [COUNT_PER_CLASS=10] [DEST=data/corpus/rvl-cdip-sample]
# Environment: DSDC_RVL_DATASET (Hugging Face dataset id, default aharley/rvl_cdip), DSDC_RVL_SPLIT (default test).
set -euo pipefail
# DEST is relative to where the script is run from (the default: under the repository's data/).
dest=$(mkdir -p "${2:-$(dirname "$0")/../data/corpus/rvl-cdip-sample}" && cd "${2:-$(dirname "$0")/../data/corpus/rvl-cdip-sample}" && pwd)
cd "$(dirname "$0")/.."
per_class=${1:-10}
dataset=${DSDC_RVL_DATASET:-aharley/rvl_cdip}
split=${DSDC_RVL_SPLIT:-test}
command -v python3 >/dev/null || { echo "download-rvl-sample: python3 is required" >&2; exit 1; }
mkdir -p "$dest"
echo "Downloading up to $per_class page(s) per class of $dataset ($split) into $dest ..."
python3 - "$dataset" "$split" "$per_class" "$dest" <<'PY'
import json, os, sys, urllib.parse, urllib.request
dataset, split, per_class, dest = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
names = ["letter", "form", "email", "handwritten", "advertisement", "scientific_report", "scientific_publication",
         "specification", "file_folder", "news_article", "budget", "invoice", "presentation", "questionnaire", "resume", "memo"]
counts = [0] * 16
api = "https://datasets-server.huggingface.co/rows"
offset, page = 0, 100
while min(counts) < per_class and offset < 40000:
    query = urllib.parse.urlencode({"dataset": dataset, "config": "default", "split": split, "offset": offset, "length": page})
    try:
        with urllib.request.urlopen(f"{api}?{query}", timeout=60) as r:
            rows = json.load(r).get("rows", [])
    except Exception as e:
        sys.exit(f"download-rvl-sample: the dataset viewer refused {dataset} ({e}); try DSDC_RVL_DATASET=<another RVL-CDIP copy>")
    if not rows:
        break
    for item in rows:
        row = item["row"]
        label = int(row["label"])
        if counts[label] >= per_class:
            continue
        src = row["image"]["src"]
        folder = os.path.join(dest, f"{label}_{names[label]}")
        os.makedirs(folder, exist_ok=True)
        ext = os.path.splitext(urllib.parse.urlparse(src).path)[1] or ".jpg"
        target = os.path.join(folder, f"rvl_{split}_{item['row_idx']:06d}{ext}")
        with urllib.request.urlopen(src, timeout=60) as r, open(target + ".part", "wb") as f:
            f.write(r.read())
        os.replace(target + ".part", target)
        counts[label] += 1
    offset += page
print("downloaded per class:", dict(zip(names, counts)))
PY
