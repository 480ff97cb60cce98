#!/usr/bin/env bash
# Benchmark: reading the stored inputs of the views at scale. Copies a database that holds an ingested, labelled corpus
# into a scratch database on the same server, multiplies its documents (COPIES unlabelled copies of each, with their
# texts, pages, vectors and region features; the HNSW indexes dropped there, they play no part), then times training's
# read of the labelled documents and a new-document run (a backlog of unpredicted documents, then nothing left to
# predict), each with the query that drives from the documents it wants (production, TrainingStore.StoredInputsOf) and
# with the previous form that ranks every stored vector first (DISTINCT ON), alternated, best of 3 after a warm-up.
# Usage: scripts/bench-stored-inputs.sh "host=127.0.0.1 port=5432 user=postgres dbname=dsdc" [COPIES]
set -euo pipefail
cd "$(dirname "$0")/.."
source="$1"; copies="${2:-400}"
server=$(sed -E 's/(^| )dbname=[^ ]*//' <<<"$source")
scratch="dsdc_bench_inputs_$$"
psql -X -q "$server dbname=postgres" -c "CREATE DATABASE $scratch"
trap 'psql -X -q "$server dbname=postgres" -c "DROP DATABASE IF EXISTS $scratch WITH (FORCE)"' EXIT
pg_dump -Fc "$source" | pg_restore -d "$server dbname=$scratch"
psql -X -q -v ON_ERROR_STOP=1 -v copies="$copies" "$server dbname=$scratch" -f scripts/lib/bench-stored-inputs.sql
