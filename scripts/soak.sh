#!/usr/bin/env bash
# Soak run (not in CI; loopback only; bounded): starts the app on 127.0.0.1 against a PostgreSQL cluster of its own,
# trains a small model, then for $DURATION s sends predictions at concurrency $CONCURRENCY while new documents arrive in
# the inbox every 30 s (copies of ../shared/datasets made unique by one appended byte, so ingestion, OCR and embedding
# really run). Every 10 s it samples the app's RSS, thread count, open files and the database connections. It prints
# the series and FAILS (exit 1) when any of them grows by more than 10% over the last third of the run (counts also need
# to grow by more than 2, so that 5 -> 6 connections is not a leak), or on a 5xx other than 503 with Retry-After.
#   scripts/soak.sh                       # defaults: CONCURRENCY=8 DURATION=900 (15 minutes)
#   DURATION=300 scripts/soak.sh          # a shorter run
#   DSDC_APP_DLL=/path/Dsdc.Web.dll scripts/soak.sh   # use an existing build instead of publishing one
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
bash "$ROOT/scripts/lib/install-deps.sh" >/dev/null   # PostgreSQL with pgvector, Tesseract, mutool on a fresh machine
source "$ROOT/scripts/lib/postgres.sh"
CONCURRENCY=${CONCURRENCY:-8}
DURATION=${DURATION:-900}
SAMPLE_SECONDS=10
DATASETS=${DSDC_DATASETS:-$(cd "$ROOT/.." && pwd)/shared/datasets}
WORK=$(mktemp -d /tmp/dsdc-soak-XXXXXX)
chmod 755 "$WORK" # the cluster runs as user postgres
say() { echo "[soak] $*"; }

APP_PID=""
cleanup() {
  [ -n "${SAMPLER_PID:-}" ] && kill "$SAMPLER_PID" 2>/dev/null || true
  [ -n "${FEEDER_PID:-}" ] && kill "$FEEDER_PID" 2>/dev/null || true
  [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null && wait "$APP_PID" 2>/dev/null || true
  pg_cluster_stop "$WORK/pg"
  rm -rf "$WORK"
}
trap cleanup EXIT

source "$ROOT/scripts/lib/bench-app.sh"
bench_app_start soakadmin 57100 18700
mapfile -t DOCS < <(find "$DATASETS" -type f \( -iname '*.png' -o -iname '*.tif' \) | sort | head -n 24)
mapfile -t ALL < <(find "$DATASETS" -type f \( -iname '*.png' -o -iname '*.tif' -o -iname '*.tiff' -o -iname '*.jpg' \) | sort)

# time rss_mib threads open_files db_connections
sample() {
  echo "$(date +%s) $(awk '/VmRSS/ {print int($2/1024)}' "/proc/$APP_PID/status") $(awk '/^Threads/ {print $2}' "/proc/$APP_PID/status") $(ls "/proc/$APP_PID/fd" | wc -l) $(psql_q "SELECT count(*) FROM pg_stat_activity WHERE datname = 'dsdc'")"
}
sampler() { while :; do sample >>"$1" 2>/dev/null || true; sleep "$SAMPLE_SECONDS"; done; }

# New documents every 30 s: each a dataset file with one random byte appended (decoders ignore it, the SHA-1 changes).
feeder() {
  local k=0 end=$((SECONDS + DURATION))
  while [ $SECONDS -lt $end ]; do
    for _ in 1 2 3 4; do
      local f=${ALL[$((RANDOM % ${#ALL[@]}))]} d="$WORK/data/to_ingest/soak-$k"
      mkdir -p "$d"; cp "$f" "$d/"; head -c 1 /dev/urandom >>"$d/$(basename "$f")"; k=$((k + 1))
    done
    sleep 30
  done
}

worker() {
  local out=$1 end=$((SECONDS + DURATION)) i=$RANDOM
  while [ $SECONDS -lt $end ]; do
    local f=${DOCS[$((i % ${#DOCS[@]}))]}; i=$((i + 1))
    curl -s -o /dev/null -m 60 -H "Authorization: Bearer $TOKEN" -F "file=@$f" \
      -w '%{http_code} %{time_total} %header{retry-after}\n' "http://127.0.0.1:$APP_PORT/api/v1/predict" >>"$out" || echo "000 60 " >>"$out"
  done
}

say "soak: $DURATION s, $CONCURRENCY prediction clients, 4 new documents every 30 s, a sample every $SAMPLE_SECONDS s"
sampler "$WORK/samples.txt" & SAMPLER_PID=$!
feeder & FEEDER_PID=$!
for _ in $(seq 1 "$CONCURRENCY"); do worker "$WORK/requests.txt" & done
wait $(jobs -p | grep -v "^$SAMPLER_PID$" | grep -v "^$APP_PID$" | grep -v "^$FEEDER_PID$") 2>/dev/null || true
kill "$FEEDER_PID" 2>/dev/null || true; FEEDER_PID=""
sample >>"$WORK/samples.txt"
kill "$SAMPLER_PID"; SAMPLER_PID=""

say "requests: $(wc -l <"$WORK/requests.txt"), status codes: $(awk '{print $1}' "$WORK/requests.txt" | sort | uniq -c | awk '{printf "%s x%s  ", $2, $1}')"
bad=$(awk '($1 ~ /^5/ && !($1 == 503 && $3 != "")) || $1 == "000"' "$WORK/requests.txt" | wc -l)
say "5xx other than 503 with Retry-After, or no answer: $bad"
say "documents stored: $(psql_q "SELECT count(*) FROM ingestion.original_documents WHERE ingest_state = 'stored'"), embedded: $(psql_q "SELECT count(DISTINCT document_id) FROM embedding.embeddings"), stage failures: $(psql_q "SELECT count(*) FROM pipeline.stage_failures")"
say "samples (seconds from start, RSS MiB, threads, open files, DB connections):"
awk 'NR == 1 {t0 = $1} {printf "  %5d %6d %5d %5d %4s\n", $1 - t0, $2, $3, $4, $5}' "$WORK/samples.txt"

# The plateau check: the last third of the samples, its last value against its first.
verdict=$(awk '
  { t[NR] = $1; for (c = 2; c <= 5; c++) v[NR, c] = $c }
  END {
    split("RSS threads open-files db-connections", name, " ")
    first = int(NR * 2 / 3) + 1; fail = 0
    for (c = 2; c <= 5; c++) {
      a = v[first, c]; b = v[NR, c]; g = (a > 0) ? (b - a) / a * 100 : 0
      grows = (g > 10) && (c == 2 || b - a > 2)
      printf "%s %s -> %s (%+.1f%%)%s; ", name[c - 1], a, b, g, grows ? " GROWS" : ""
      if (grows) fail = 1
    }
    print (fail ? "FAIL" : "OK")
  }' "$WORK/samples.txt")
say "last third: $verdict"
say "app still alive: $(kill -0 "$APP_PID" 2>/dev/null && echo yes || echo NO)"
[ "$bad" -eq 0 ] && [[ "$verdict" == *OK ]] && kill -0 "$APP_PID" 2>/dev/null
