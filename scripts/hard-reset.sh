#!/usr/bin/env bash
# Wipes DSDC's data and database, after a confirmation (or --yes):
#   - the contents of data/to_ingest, data/raw, data/processed and data/rejected (the folders and .gitkeep files stay),
#   - the trained models in models/ (everything but README.md and downloaded encoders such as models/clip-vit-base-patch32,
#     which hold no state and may need the internet to fetch again),
#   - the database 'dsdc' (dropped and created again, empty, with pgvector; migrations run at the next start).
# The app is stopped first if it runs. The secrets (.dsdc/secrets.env: database password, signing key, first admin)
# are kept, so the next scripts/start.sh comes back with the same credentials.
# Usage: scripts/hard-reset.sh [--yes]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/dsdc.sh"
cd "$DSDC_ROOT"

yes=0
for arg in "$@"; do
  case "$arg" in
    --yes|-y) yes=1 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$arg' (usage: scripts/hard-reset.sh [--yes])" ;;
  esac
done

# Dsdc__DataDir / Dsdc__ModelsDir as the app reads them: an absolute path as it is, a relative one from the checkout;
# never a folder that holds more.
resolve_dir() { case "$1" in /*) realpath -m "$1" ;; *) realpath -m "$DSDC_ROOT/$1" ;; esac; }
data_dir=$(resolve_dir "${Dsdc__DataDir:-data}")
models_dir=$(resolve_dir "${Dsdc__ModelsDir:-models}")
for d in "$data_dir" "$models_dir"; do
  case "$d" in /|/root|/home|"$DSDC_ROOT"|"${HOME:-/nonexistent}") die "refusing to wipe '$d' (check Dsdc__DataDir / Dsdc__ModelsDir)" ;; esac
  # A top-level folder (/srv, /opt...) or one holding the checkout is never DSDC's alone.
  case "$d" in /*/*) ;; *) die "refusing to wipe the top-level folder '$d' (check Dsdc__DataDir / Dsdc__ModelsDir)" ;; esac
  case "$DSDC_ROOT/" in "$d"/*) die "refusing to wipe '$d', which holds the checkout (check Dsdc__DataDir / Dsdc__ModelsDir)" ;; esac
done
# Everything in the models folder goes: it must be empty or look like DSDC's (its runs/ or this project's README).
if [ -d "$models_dir" ] && [ -n "$(ls -A "$models_dir")" ] && [ ! -d "$models_dir/runs" ] \
   && ! grep -qs '^# models/' "$models_dir/README.md"; then
  die "refusing to wipe '$models_dir': it holds neither runs/ nor DSDC's README.md (check Dsdc__ModelsDir)"
fi

if [ "$yes" != 1 ]; then
  [ -t 0 ] || die "no terminal to confirm on: run scripts/hard-reset.sh --yes to wipe without asking"
  echo "This DELETES, with no way back:"
  echo "  - every file under $data_dir/{to_ingest,raw,processed,rejected}"
  echo "  - every trained model under $models_dir (README.md and downloaded encoders such as clip-vit-base-patch32 stay)"
  echo "  - the database '$DSDC_DB_NAME' (documents, labels, embeddings, runs, jobs)"
  read -r -p "Type 'yes' to continue: " answer
  [ "$answer" = yes ] || { say "nothing changed"; exit 1; }
fi

if app_stop; then say "app stopped (start it again with scripts/start.sh)"; fi

for sub in to_ingest raw processed rejected; do
  mkdir -p "$data_dir/$sub"
  find "$data_dir/$sub" -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf -- {} +
done
mkdir -p "$models_dir"
find "$models_dir" -mindepth 1 -maxdepth 1 ! -name README.md ! -name 'clip-*' -exec rm -rf -- {} +
say "data and models wiped"

if ! secrets_load || ! command -v pg_lsclusters >/dev/null || ! pg_find_cluster; then
  say "no database was ever set up here (no .dsdc/secrets.env or no PostgreSQL cluster): nothing to drop"
  exit 0
fi
was_online=$PG_ONLINE
pg_ensure_running 0
say "dropping and re-creating the database '$DSDC_DB_NAME' on PostgreSQL $PG_VER/$PG_NAME"
psql_super -d postgres -c "DROP DATABASE IF EXISTS $DSDC_DB_NAME WITH (FORCE)" >/dev/null
pg_ensure_database
if [ "$was_online" = 0 ]; then
  say "stopping PostgreSQL $PG_VER/$PG_NAME again (it was down before)"
  dsdc_sudo pg_ctlcluster "$PG_VER" "$PG_NAME" stop -m fast
fi
say "hard reset done: scripts/start.sh starts DSDC again (same secrets and admin password)"
