#!/usr/bin/env bash
# Benchmark: the whole `ingest` pipeline over a labelled corpus (default ../shared/datasets), beside its floor, measured
# in the same run: the same files OCR'd by the bare `tesseract` CLI in 2 parallel processes with OMP_THREAD_LIMIT=1.
# PDF pages are rasterised for the floor beforehand (not timed). The floor reads every page in each page segmentation
# mode the pipeline reads it in: 3, then each of Ocr__ExtraReadings (default 6,11; set it empty for one reading, as for
# the pipeline). Prints both throughputs and their ratio.
# Usage: [Ocr__ExtraReadings=6,11] scripts/bench-ingest.sh [CORPUS_DIR]
set -euo pipefail
# CORPUS_DIR is relative to where the script is run from; the default sits beside the checkout.
corpus=$(cd "${1:-$(dirname "$0")/../../shared/datasets}" && pwd)
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
bash scripts/lib/install-deps.sh >/dev/null

work=$(mktemp -d /tmp/dsdc-bench-ingest.XXXXXX) && chmod 755 "$work"   # the postgres user must reach pg/
pg_dir="$work/pg"; port=$(free_port 56432)
cleanup() { pg_cluster_stop "$pg_dir"; rm -rf "$work"; }
trap cleanup EXIT
pg_scratch_database "$pg_dir" "$port" bench

dotnet publish Dsdc.Web -c Release -o "$work/app" -nologo -v quiet >/dev/null

# The corpus: every document with a class folder <index>_<name> above it.
mapfile -t files < <(find "$corpus" -type f \( -iname '*.tif' -o -iname '*.tiff' -o -iname '*.png' -o -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.bmp' -o -iname '*.pdf' \) | sort)
echo "corpus: ${#files[@]} files under $corpus"

# Floor: bare tesseract CLI, 2 processes, one thread each.
mkdir -p "$work/floor"
for f in "${files[@]}"; do
  case "${f,,}" in
    *.pdf) mutool draw -q -r 300 -o "$work/floor/$(basename "$f").%d.png" "$f" >/dev/null 2>&1 ;;
    *) ln -s "$f" "$work/floor/$(basename "$f").$(echo "${f##*.}" | tr 'A-Z' 'a-z')" ;;
  esac
done
export Ocr__ExtraReadings="${Ocr__ExtraReadings-6,11}"
modes="3 ${Ocr__ExtraReadings//,/ }"
echo "page segmentation modes read: $modes"
floor_start=$(date +%s%N)
find "$work/floor" -type f -o -type l | sort | OMP_THREAD_LIMIT=1 xargs -P 2 -I{} bash -c 'for m in $0; do tesseract "$1" - -l eng --psm "$m"; done' "$modes" {} >/dev/null 2>&1
floor_ns=$(( $(date +%s%N) - floor_start ))
awk -v n="${#files[@]}" -v f="$floor_ns" 'BEGIN { printf "floor measured: %.1f s, %.2f docs/s\n", f / 1e9, n / (f / 1e9) }'

# DSDC: one inbox folder per document with its label, then `ingest` until empty (process start included).
inbox="$work/data/to_ingest"; mkdir -p "$inbox"
i=0
for f in "${files[@]}"; do
  label=$(echo "$f" | grep -oE '/[0-9]+_[^/]+/' | tail -n 1 | grep -oE '[0-9]+' | head -n 1)
  d="$inbox/doc$(printf %04d $i)"; mkdir -p "$d"; cp "$f" "$d/"; echo "$label" > "$d/label.txt"; i=$((i + 1))
done
export ConnectionStrings__Dsdc="Host=127.0.0.1;Port=$port;Username=postgres;Database=bench"
export Auth__SigningKey="bench-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export Dsdc__DataDir="$work/data" Dsdc__ModelsDir="$work/models" Ingestion__SettleSeconds=0 Pipeline__Enabled=false
dsdc_start=$(date +%s%N)
dotnet "$work/app/Dsdc.Web.dll" ingest > "$work/ingest.out" 2> "$work/ingest.err" || { cat "$work/ingest.err"; exit 1; }
dsdc_ns=$(( $(date +%s%N) - dsdc_start ))
cat "$work/ingest.out"

awk -v n="${#files[@]}" -v f="$floor_ns" -v d="$dsdc_ns" 'BEGIN {
  fs = f / 1e9; ds = d / 1e9
  printf "floor (tesseract CLI x2, OCR only): %7.1f s  %6.2f docs/s\n", fs, n / fs
  printf "dsdc ingest (whole pipeline):       %7.1f s  %6.2f docs/s\n", ds, n / ds
  printf "ratio dsdc / floor: %.2fx  (target >= 0.90)\n", fs / ds
}'
