#!/usr/bin/env bash
# Load and fault run (not in CI): starts the app on 127.0.0.1 against a PostgreSQL cluster of its own, trains a small
# model, then
#   phase 1: predictions at concurrency $CONCURRENCY for $DURATION s while the pipeline ingests every document of
#            ../shared/datasets (Hangfire, recurring run every minute);
#   phase 2: predictions again while PostgreSQL is stopped for $OUTAGE s in the middle (DSDC_LOAD_OUTAGE=0 skips it).
# Reports status-code counts, p50/p95 latency, 5xx other than 503-with-Retry-After, the app's RSS over time, and the
# pipeline's progress. Everything it starts (cluster, app) is stopped by PID at the end; the data lives in a temp dir.
#   scripts/load-test.sh                 # defaults: CONCURRENCY=16 DURATION=60 OUTAGE=30
#   DSDC_APP_DLL=/path/Dsdc.Web.dll scripts/load-test.sh   # use an existing build instead of publishing one
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
bash "$ROOT/scripts/lib/install-deps.sh" >/dev/null   # PostgreSQL with pgvector, Tesseract, mutool on a fresh machine
source "$ROOT/scripts/lib/postgres.sh"
CONCURRENCY=${CONCURRENCY:-16}
DURATION=${DURATION:-60}
OUTAGE=${OUTAGE:-30}
DATASETS=${DSDC_DATASETS:-$(cd "$ROOT/.." && pwd)/shared/datasets}
WORK=$(mktemp -d /tmp/dsdc-load-XXXXXX)
chmod 755 "$WORK" # the cluster runs as user postgres
say() { echo "[load] $*"; }

APP_PID=""
cleanup() {
  [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null && wait "$APP_PID" 2>/dev/null || true
  [ -n "${SAMPLER_PID:-}" ] && kill "$SAMPLER_PID" 2>/dev/null || true
  pg_cluster_stop "$WORK/pg"
  rm -rf "$WORK"
}
trap cleanup EXIT

source "$ROOT/scripts/lib/bench-app.sh"
bench_app_start loadadmin 57000 18600
mapfile -t DOCS < <(find "$DATASETS" -type f \( -iname '*.png' -o -iname '*.tif' \) | sort | head -n 24)

rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$APP_PID/status" 2>/dev/null || echo 0; }
sample_rss() { while :; do echo "$(date +%s) $(rss)" >>"$1"; sleep 2; done; }

# worker OUT SECONDS: predictions in a loop; one line per request: code seconds retry-after
worker() {
  local out=$1 end=$((SECONDS + $2)) i=$RANDOM
  while [ $SECONDS -lt $end ]; do
    local f=${DOCS[$((i % ${#DOCS[@]}))]}; i=$((i + 1))
    curl -s -o /dev/null -m 60 -H "Authorization: Bearer $TOKEN" -F "file=@$f" \
      -w '%{http_code} %{time_total} %header{retry-after}\n' "http://127.0.0.1:$APP_PORT/api/v1/predict" >>"$out" || echo "000 60 " >>"$out"
  done
}

report() { # report NAME FILE RSSFILE
  local file=$2
  say "== $1: $(wc -l <"$file") requests in ${3}s at concurrency $CONCURRENCY"
  say "status codes: $(awk '{print $1}' "$file" | sort | uniq -c | awk '{printf "%s x%s  ", $2, $1}')"
  say "5xx other than 503 with Retry-After: $(awk '($1 ~ /^5/ && !($1 == 503 && $3 != "")) || $1 == "000"' "$file" | wc -l)"
  say "latency all: p50 $(sort -n -k2 "$file" | awk '{a[NR]=$2} END {printf "%.3f", a[int(NR*0.5)+1]}') s, p95 $(sort -n -k2 "$file" | awk '{a[NR]=$2} END {printf "%.3f", a[int(NR*0.95)]}') s"
  say "latency 200: p50 $(awk '$1==200' "$file" | sort -n -k2 | awk '{a[NR]=$2} END {if (NR) printf "%.3f", a[int(NR*0.5)+1]}') s, p95 $(awk '$1==200' "$file" | sort -n -k2 | awk '{a[NR]=$2} END {if (NR) printf "%.3f", a[int(NR*0.95)]}') s"
}

# Phase 1: load + the whole datasets folder through the pipeline.
say "dropping every document of $DATASETS into the inbox"
k=0
while IFS= read -r f; do d="$WORK/data/to_ingest/all-$k"; mkdir -p "$d"; cp "$f" "$d/"; k=$((k + 1)); done \
  < <(find "$DATASETS" -type f \( -iname '*.png' -o -iname '*.tif' -o -iname '*.tiff' -o -iname '*.jpg' -o -iname '*.pdf' \))
docs_before=$(psql_q "SELECT count(*) FROM ingestion.original_documents")
sample_rss "$WORK/rss1.txt" & SAMPLER_PID=$!
say "phase 1: $DURATION s of predictions, $k documents waiting in the inbox"
for w in $(seq 1 "$CONCURRENCY"); do worker "$WORK/p1.txt" "$DURATION" & done
wait $(jobs -p | grep -v "^$SAMPLER_PID$" | grep -v "^$APP_PID$") 2>/dev/null || true
kill "$SAMPLER_PID"; SAMPLER_PID=""
report "phase 1 (predictions while the pipeline ingests)" "$WORK/p1.txt" "$DURATION"
say "RSS MiB over time (every 2 s): $(awk '{printf "%s ", $2}' "$WORK/rss1.txt")"
say "pipeline during phase 1: documents $docs_before -> $(psql_q "SELECT count(*) FROM ingestion.original_documents"), rejected $(psql_q "SELECT count(*) FROM ingestion.rejected_documents"), texts $(psql_q "SELECT count(*) FROM pipeline.processed_texts"), images $(psql_q "SELECT count(*) FROM pipeline.processed_images"), inbox left $(ls "$WORK/data/to_ingest" | wc -l)"

if [ "${DSDC_LOAD_OUTAGE:-1}" = 1 ]; then
  P2=$((OUTAGE + 20))
  say "phase 2: $P2 s of predictions, PostgreSQL stopped for $OUTAGE s after 10 s"
  sample_rss "$WORK/rss2.txt" & SAMPLER_PID=$!
  for w in $(seq 1 "$CONCURRENCY"); do worker "$WORK/p2.txt" "$P2" & done
  sleep 10; pg_cluster_stop "$WORK/pg"; sleep "$OUTAGE"; pg_cluster_start "$WORK/pg" "$PG_PORT"
  wait $(jobs -p | grep -v "^$SAMPLER_PID$" | grep -v "^$APP_PID$") 2>/dev/null || true
  kill "$SAMPLER_PID"; SAMPLER_PID=""
  report "phase 2 (PostgreSQL down for $OUTAGE s)" "$WORK/p2.txt" "$P2"
  say "RSS MiB over time: $(awk '{printf "%s ", $2}' "$WORK/rss2.txt")"
  say "after the outage: waiting up to 240 s for the pipeline to drain the inbox"
  for _ in $(seq 1 120); do [ "$(ls "$WORK/data/to_ingest" | wc -l)" = 0 ] && break; sleep 2; done
  sleep 20
fi
stored=$(psql_q "SELECT count(*) FROM ingestion.original_documents WHERE ingest_state='stored'")
say "final: stored $stored, distinct ids $(psql_q "SELECT count(DISTINCT id) FROM ingestion.original_documents"), raw files $(find "$WORK/data/raw" -type f ! -name .gitkeep | wc -l), rejected $(psql_q "SELECT count(*) FROM ingestion.rejected_documents") (by reason: $(psql_q "SELECT string_agg(reason_code || '=' || n, ' ') FROM (SELECT reason_code, count(*) n FROM ingestion.rejected_documents GROUP BY 1) r")), inbox left $(ls "$WORK/data/to_ingest" | wc -l), stage failures $(psql_q "SELECT count(*) FROM pipeline.stage_failures")"
say "app still alive: $(kill -0 "$APP_PID" 2>/dev/null && echo yes || echo NO), RSS $(rss) MiB"
