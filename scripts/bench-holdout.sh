#!/usr/bin/env bash
# Benchmark: accuracy on documents held out by source, through the whole prediction path. A labelled corpus (default
# ../shared/datasets: <source>/<index>_<class>/<file>) is ingested into a throw-away database; then for each of K folds
# a K-th of every source (each source's documents ordered by class folder and SHA-1, every K-th one) loses its labels,
# `train` fits and promotes a model on the other documents, and `evaluate` classifies the held-out files from disk
# (inspection, OCR, preprocessing, encoders, the served artifact), as an outside evaluation on unseen pages would.
# The labels come back before the next fold. Prints each fold and the pooled accuracy.
# Usage: scripts/bench-holdout.sh [CORPUS_DIR] [K]
set -euo pipefail
# CORPUS_DIR is relative to where the script is run from; the default sits beside the checkout.
corpus=$(cd "${1:-$(dirname "$0")/../../shared/datasets}" && pwd)
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
k=${2:-3}
[[ "$k" =~ ^[0-9]+$ && "$k" -ge 2 ]] || { echo "K must be a whole number >= 2" >&2; exit 2; }
bash scripts/lib/install-deps.sh >/dev/null

work=$(mktemp -d /tmp/dsdc-bench-holdout.XXXXXX) && chmod 755 "$work"   # the postgres user must reach pg/
pg_dir="$work/pg"; port=$(free_port 56532)
cleanup() { pg_cluster_stop "$pg_dir"; rm -rf "$work"; }
trap cleanup EXIT
pg_scratch_database "$pg_dir" "$port" bench
sql() { as_pg "$(pg_bindir)/psql" -h 127.0.0.1 -p "$port" -U postgres -d bench -qAt -v ON_ERROR_STOP=1 -c "$1"; }

dotnet publish Dsdc.Web -c Release -o "$work/app" -nologo -v quiet >/dev/null

# The corpus: every document with a class folder <index>_<name> above it; its source is the first folder under the corpus.
mapfile -t files < <(find "$corpus" -type f \( -iname '*.tif' -o -iname '*.tiff' -o -iname '*.png' -o -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.bmp' -o -iname '*.pdf' \) \
  | grep -E '/[0-9]+_[^/]+/[^/]+$' | sort)
echo "corpus: ${#files[@]} files under $corpus, $k folds"
inbox="$work/data/to_ingest"; mkdir -p "$inbox"
: > "$work/documents"
i=0
for f in "${files[@]}"; do
  rel=${f#"$corpus"/}; source=${rel%%/*}
  class=$(basename "$(dirname "$f")"); label=${class%%_*}
  d="$inbox/doc$(printf %05d $i)"; mkdir -p "$d"; cp "$f" "$d/"; echo "$label" > "$d/label.txt"; i=$((i + 1))
  printf '%s\t%s\t%s\t%s\n' "$source" "$class" "$(sha1sum "$f" | cut -c1-40)" "$rel" >> "$work/documents"
done
# Fold of each document: its position among its source's documents (ordered by class folder, then id) modulo K.
sort -t $'\t' -k1,1 -k2,2 -k3,3 "$work/documents" | awk -F'\t' -v k="$k" -v OFS='\t' '{ print (n[$1]++ % k), $0 }' > "$work/folds"

export ConnectionStrings__Dsdc="Host=127.0.0.1;Port=$port;Username=postgres;Database=bench"
export Auth__SigningKey="bench-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export Dsdc__DataDir="$work/data" Dsdc__ModelsDir="$work/models" Ingestion__SettleSeconds=0 Pipeline__Enabled=false Training__Enabled=false
app() { dotnet "$work/app/Dsdc.Web.dll" "$@"; }
start=$(date +%s)
app ingest > "$work/ingest.out" 2> "$work/ingest.err" || { cat "$work/ingest.err"; exit 1; }
echo "ingested in $(( $(date +%s) - start )) s: $(sql "SELECT count(*) FROM ingestion.labels") labels"

right=0; total=0
for fold in $(seq 0 $((k - 1))); do
  held="$work/held$fold"; ids=()
  while IFS=$'\t' read -r _ _ _ id rel; do
    ids+=("'$id'"); mkdir -p "$held/$(dirname "$rel")"; cp "$corpus/$rel" "$held/$rel"
  done < <(awk -F'\t' -v f="$fold" '$1 == f' "$work/folds")
  [ "${#ids[@]}" -gt 0 ] || { echo "fold $fold: no document"; continue; }
  in=$(IFS=,; echo "${ids[*]}")
  sql "CREATE TABLE held_labels AS SELECT * FROM ingestion.labels WHERE document_id IN ($in); DELETE FROM ingestion.labels WHERE document_id IN ($in)"
  app train > "$work/train$fold.out" 2> "$work/train$fold.err" || { cat "$work/train$fold.err"; exit 1; }
  app evaluate "$held" --json > "$work/eval$fold.json" 2> "$work/eval$fold.err" || { cat "$work/eval$fold.err"; exit 1; }
  sql "INSERT INTO ingestion.labels OVERRIDING SYSTEM VALUE SELECT * FROM held_labels; DROP TABLE held_labels"
  num() { grep -oE "\"$1\":[-0-9.eE]+" "$work/eval$fold.json" | head -n 1 | cut -d: -f2; }
  acc=$(num accuracy); n=$(num evaluated)
  right=$(awk -v r="$right" -v a="$acc" -v n="$n" 'BEGIN { printf "%.0f", r + a * n }'); total=$((total + n))
  awk -v f="$fold" -v n="$n" -v t="$(( ${#files[@]} - n ))" -v a="$acc" -v m="$(num macroF1)" -v e="$(num ece)" -v r="$(num needingReview)" \
      -v w="$(num accuracyWithoutReview)" -v run="$(num modelRunId)" \
      'BEGIN { printf "fold %d: trained on %d, %d held out: accuracy %.1f%%, macro-F1 %.3f, ECE %.3f, %d need review, the others %.1f%% right (run %s)\n", f, t, n, 100 * a, m, e, r, 100 * w, run }'
  # The promoted run's own estimate, from the job's cross-validation over the documents it trained on.
  grep -E '^ +[0-9]+ ' "$work/train$fold.out" | grep -F ' * ' \
    | awk '{ printf "        the job'"'"'s own estimate: run %s (%s) %s%% ± %s%% per fold, macro-F1 %s\n", $1, $2, $6, $8, $10 }' || true
done
awk -v r="$right" -v t="$total" 'BEGIN { printf "pooled: %d of %d held-out documents right, %.1f%%\n", r, t, 100 * r / t }'
