#!/usr/bin/env bash
# Stops what scripts/start.sh started: the app (by the pid in .dsdc/app.pid) and PostgreSQL, but PostgreSQL only when
# start.sh was the one that started it (it was down before). Data, database and secrets stay.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/dsdc.sh"
cd "$DSDC_ROOT"

if app_stop; then
  say "app stopped"
else
  say "the app is not running (no live process in .dsdc/app.pid)"
fi
rm -f "$DSDC_URL_FILE"

if [ -f "$DSDC_PG_MARKER" ]; then
  read -r ver name boot <"$DSDC_PG_MARKER" || true
  # A marker without a boot id (written by an earlier version) is taken as this boot's.
  if [ -n "${boot:-}" ] && [ "$boot" != "$(boot_id)" ]; then
    say "PostgreSQL left as it was (start.sh started it before the machine restarted)"
  elif [ -n "${ver:-}" ] && [ -n "${name:-}" ] && pg_lsclusters -h 2>/dev/null | awk -v v="$ver" -v n="$name" '$1 == v && $2 == n && $4 ~ /^online/ { found = 1 } END { exit !found }'; then
    say "stopping PostgreSQL $ver/$name (start.sh started it)"
    dsdc_sudo pg_ctlcluster "$ver" "$name" stop -m fast
  fi
  rm -f "$DSDC_PG_MARKER"
else
  say "PostgreSQL left as it was (start.sh did not start it)"
fi
say "stopped"
