#!/usr/bin/env bash
# Benchmark: a page of the review queue at scale. Copies a database that holds an ingested, labelled corpus into a
# scratch database on the same server, multiplies its documents (COPIES unlabelled copies of each), predicts every
# unlabelled one (half of them twice), then runs `Dsdc.Bench bench-review` on it: production's page load against the
# previous query form, alternated, and what keeping each document's latest prediction adds to writing predictions.
# Usage: scripts/bench-review-queue.sh "host=127.0.0.1 port=5432 user=postgres dbname=dsdc" [COPIES] [bench-review options]
set -euo pipefail
cd "$(dirname "$0")/.."
source="$1"; copies="${2:-400}"; shift $(( $# < 2 ? $# : 2 ))
server=$(sed -E 's/(^| )dbname=[^ ]*//' <<<"$source")
scratch="dsdc_bench_review_$$"
psql -X -q "$server dbname=postgres" -c "CREATE DATABASE $scratch"
trap 'psql -X -q "$server dbname=postgres" -c "DROP DATABASE IF EXISTS $scratch WITH (FORCE)"' EXIT
pg_dump -Fc "$source" | pg_restore -d "$server dbname=$scratch"

# The scratch database as an Npgsql connection string (host, port, user and password of the libpq one).
value() { sed -nE "s/^(.* )?$1=([^ ]*).*$/\2/p" <<<"$source"; }
connection="Host=$(value host);Port=$(value port);Username=$(value user);Database=$scratch"
[ -n "$(value password)" ] && connection="$connection;Password=$(value password)"
dotnet build Dsdc.Bench -c Release -nologo -v quiet >/dev/null
work=$(mktemp -d); trap 'rm -rf "$work"; psql -X -q "$server dbname=postgres" -c "DROP DATABASE IF EXISTS $scratch WITH (FORCE)"' EXIT
export Auth__SigningKey=$(head -c 48 /dev/urandom | base64 -w0) Dsdc__DataDir="$work/data" Dsdc__ModelsDir="$work/models"
bench() { ConnectionStrings__Dsdc="$connection" Training__Enabled=false dotnet Dsdc.Bench/bin/Release/net10.0/Dsdc.Bench.dll "$@"; }
bench migrate >/dev/null   # the schema this build reads, before the predictions are written (through its trigger)
psql -X -q -v ON_ERROR_STOP=1 -v copies="$copies" "$server dbname=$scratch" -f scripts/lib/bench-review-queue.sql
bench bench-review "$@"
