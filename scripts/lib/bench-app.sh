# The app under a benchmark (sourced by soak.sh and load-test.sh, which define ROOT, WORK, DATASETS and say; source
# postgres.sh first). bench_app_start ADMIN PG_PORT_FROM APP_PORT_FROM publishes the app into $WORK/app unless
# DSDC_APP_DLL names a build, starts a PostgreSQL cluster of its own under $WORK/pg, trains a small model on 6 labelled
# documents per class, starts the app on 127.0.0.1 and logs in as its first admin. It sets PG_PORT, APP_PORT, APP
# (the command), APP_PID and TOKEN, and defines psql_q SQL (one value from the app's database).
bench_app_start() {
  if [ -z "${DSDC_APP_DLL:-}" ]; then
    say "publishing the app (Release) into $WORK/app"
    dotnet publish "$ROOT/Dsdc.Web/Dsdc.Web.csproj" -c Release -o "$WORK/app" -nologo -v quiet -p:UseAppHost=false \
      --artifacts-path "$WORK/artifacts" >/dev/null
    DSDC_APP_DLL="$WORK/app/Dsdc.Web.dll"
  fi

  PG_PORT=$(free_port "$2")
  pg_scratch_database "$WORK/pg" "$PG_PORT" dsdc
  psql_q() { as_pg "$(pg_bindir)/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d dsdc -Atqc "$1" 2>/dev/null || echo "?"; }

  APP_PORT=$(free_port "$3")
  export ConnectionStrings__Dsdc="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=dsdc;Timeout=3"
  export Dsdc__DataDir="$WORK/data" Dsdc__ModelsDir="$WORK/models"
  export Auth__SigningKey=$(head -c 48 /dev/urandom | base64 -w0)
  export Auth__Admin__Username="$1" Auth__Admin__Password=$(head -c 18 /dev/urandom | base64 -w0 | tr -d '/+=')
  export Ingestion__SettleSeconds=0 Pipeline__Cron="* * * * *" Training__Enabled=false OMP_THREAD_LIMIT=1
  APP=(dotnet "$DSDC_APP_DLL")
  mkdir -p "$WORK/data/to_ingest"

  say "training a model on 6 documents per class"
  n=0
  while IFS= read -r f; do
    label=$(basename "$(dirname "$f")" | cut -d_ -f1)
    [ "$(ls "$WORK/data/to_ingest" | grep -c "^c${label}-" || true)" -ge 6 ] && continue
    d="$WORK/data/to_ingest/c${label}-$n"; mkdir -p "$d"; cp "$f" "$d/"; echo "$label" >"$d/label.txt"; n=$((n + 1))
  done < <(find "$DATASETS" -type f \( -iname '*.png' -o -iname '*.tif' -o -iname '*.tiff' \) -path '*/[0-9]*_*/*' | sort)
  "${APP[@]}" ingest >"$WORK/ingest.log" 2>&1 || { tail -20 "$WORK/ingest.log"; exit 1; }
  "${APP[@]}" train --runs 1 --epochs 40 >"$WORK/train.log" 2>&1 || { tail -20 "$WORK/train.log"; exit 1; }

  ASPNETCORE_URLS="http://127.0.0.1:$APP_PORT" "${APP[@]}" >"$WORK/app.log" 2>&1 &
  APP_PID=$!
  for _ in $(seq 1 120); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$APP_PORT/health/ready")" = 200 ] && break; sleep 1
  done
  TOKEN=$(curl -s -X POST "http://127.0.0.1:$APP_PORT/api/v1/token" \
    --data-urlencode "username=$Auth__Admin__Username" --data-urlencode "password=$Auth__Admin__Password" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  [ -n "$TOKEN" ] || { say "no token"; exit 1; }
}
