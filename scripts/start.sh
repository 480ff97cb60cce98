#!/usr/bin/env bash
# Sets up and starts DSDC on this machine (Debian or Ubuntu, as root or with sudo):
#   installs what is missing (PostgreSQL + pgvector, Tesseract, MuPDF), starts PostgreSQL, creates the role and the
#   database 'dsdc', builds the app in Release and starts it in the background at http://127.0.0.1:8080.
# Prerequisite: the .NET 10 SDK (dotnet on PATH).
# Running it again reuses everything: the secrets in .dsdc/secrets.env, the database, and the app if it already runs.
# Environment overrides: DSDC_PORT (default 8080), DSDC_HOST (default 127.0.0.1), DSDC_ADMIN_USER (first start only,
#   default admin), DSDC_PG_CLUSTER (e.g. 15/main), DSDC_START_TIMEOUT (seconds to wait for readiness, default 180).
# Stop with scripts/stop.sh; wipe everything with scripts/hard-reset.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/dsdc.sh"
cd "$DSDC_ROOT"

port=${DSDC_PORT:-8080}
host=${DSDC_HOST:-127.0.0.1}
timeout=${DSDC_START_TIMEOUT:-180}
[[ "$port" =~ ^[0-9]+$ ]] || die "DSDC_PORT must be a port number, not '$port'"

# 1. Prerequisites and system packages.
if ! command -v dotnet >/dev/null || ! dotnet --list-sdks 2>/dev/null | grep -q '^10\.'; then
  die "the .NET 10 SDK is required and was not found (dotnet --list-sdks shows no 10.x).
  Install it first, e.g. with Microsoft's packages for your distribution (package dotnet-sdk-10.0) or the
  dotnet-install script, make sure 'dotnet' is on PATH, then run scripts/start.sh again."
fi
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
bash "$DSDC_ROOT/scripts/lib/install-deps.sh"

# 2. Secrets (generated once, then reused).
secrets_ensure

# 3. PostgreSQL: the distribution's cluster (see scripts/lib/dsdc.sh for why), created only if there is none.
if ! pg_find_cluster; then
  ver=${DSDC_PG_CLUSTER:-}; ver=${ver%%/*}; ver=${ver:-$(ls /usr/lib/postgresql | sort -V | tail -n 1)}
  say "no PostgreSQL $ver cluster exists: creating $ver/main"
  dsdc_sudo pg_createcluster "$ver" main >/dev/null
  pg_find_cluster || die "pg_createcluster did not create a cluster"
fi
pg_ensure_running 1
pg_ensure_database
say "database '$DSDC_DB_NAME' (role '$DSDC_DB_USER', pgvector) ready on PostgreSQL $PG_VER/$PG_NAME, port $PG_PORT"

# 4. The app: reuse a running one, otherwise build and start it.
pid=$(app_pid)
if [ -n "$pid" ]; then
  url=$(cat "$DSDC_URL_FILE" 2>/dev/null || echo "http://$host:$port")
  say "the app is already running (pid $pid) at $url: reusing it (scripts/stop.sh first to restart it with new code)"
else
  url="http://$host:$port"
  if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
    die "something else already listens on $host:$port. Stop it, or choose another port: DSDC_PORT=8081 scripts/start.sh"
  fi
  # Published to .dsdc/app so that later builds of the checkout (tests, IDE) never overwrite the running binaries.
  say "building the app (Release) into .dsdc/app"
  dotnet publish "$DSDC_ROOT/Dsdc.Web/Dsdc.Web.csproj" -c Release -o "$DSDC_APP_DIR" -nologo -v quiet -p:UseAppHost=false \
    || die "the build failed (see the errors above)"

  touch "$DSDC_LOG_FILE"
  chmod 600 "$DSDC_LOG_FILE"
  log_start=$(($(wc -l <"$DSDC_LOG_FILE") + 1))
  echo "===== scripts/start.sh $(date -Is): starting the app at $url" >>"$DSDC_LOG_FILE"
  rm -f "$DSDC_PID_FILE"
  # The app runs from the checkout, so its content root (appsettings.json, data/, models/) is the repository root.
  (
    export ConnectionStrings__Dsdc="$(dsdc_connection_string)"
    export ASPNETCORE_URLS="$url"
    export Auth__SigningKey Auth__Admin__Username Auth__Admin__Password
    export OMP_THREAD_LIMIT="${OMP_THREAD_LIMIT:-1}"   # Tesseract's OpenMP: one thread per engine is faster here.
    unset DSDC_DB_PASSWORD
    # setsid: detached from this terminal. The inner shell writes its own pid, then becomes dotnet (same pid).
    exec setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' dsdc-app "$DSDC_PID_FILE" \
      dotnet "$DSDC_APP_DIR/Dsdc.Web.dll" </dev/null >>"$DSDC_LOG_FILE" 2>&1
  ) &
  for _ in $(seq 1 50); do [ -s "$DSDC_PID_FILE" ] && break; sleep 0.1; done

  say "waiting for $url/health/ready (up to ${timeout}s)"
  deadline=$((SECONDS + timeout))
  status=000
  while :; do
    status=$(http_status "$url/health/ready")
    [ "$status" = 200 ] && break
    pid=$(app_pid)
    if [ -z "$pid" ]; then
      echo "[dsdc] ERROR: the app exited during start-up. Last lines of $DSDC_LOG_FILE:" >&2
      tail -n "+$log_start" "$DSDC_LOG_FILE" | tail -n 60 >&2
      rm -f "$DSDC_PID_FILE"
      exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "[dsdc] ERROR: the app was not ready after ${timeout}s (last /health/ready answer: $status). Last lines of $DSDC_LOG_FILE:" >&2
      tail -n "+$log_start" "$DSDC_LOG_FILE" | tail -n 60 >&2
      app_stop >/dev/null || true
      exit 1
    fi
    sleep 1
  done
  pid=$(app_pid)
  echo "$url" >"$DSDC_URL_FILE"
fi

status=$(http_status "$url/health/ready")
[ "$status" = 200 ] || die "the running app (pid $pid) answers $status on $url/health/ready: see $DSDC_LOG_FILE"

cat <<EOF

DSDC is running (pid $pid).
  App            $url/
  Hangfire       $url/hangfire   (role admin: log in at $url/login)
  Metrics        $url/metrics
  OpenAPI        $url/openapi/v1.json
  Health         $url/health/live, $url/health/ready
  Logs           $DSDC_LOG_FILE   (tail -f to follow)
  Database       $DSDC_DB_NAME on PostgreSQL $PG_VER/$PG_NAME, 127.0.0.1:$PG_PORT, role $DSDC_DB_USER
  Secrets        $DSDC_SECRETS   (database password, signing key, first admin)
  Stop           scripts/stop.sh      Wipe data and database: scripts/hard-reset.sh
EOF

announce_first_admin "${log_start:-1}"
