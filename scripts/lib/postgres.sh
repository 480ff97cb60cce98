# Helpers to run a PostgreSQL cluster that belongs to DSDC (sourced by the other scripts).
# PostgreSQL refuses to run as root, so as root the server runs as the 'postgres' system user.

pg_bindir() { echo "/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -V | tail -n 1)/bin"; }

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_cluster_start DIR PORT: creates the cluster in DIR when missing (trust on 127.0.0.1 only), then starts it.
pg_cluster_start() {
  local dir=$1 port=$2 bin
  bin=$(pg_bindir)
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
  chmod 700 "$dir"
  if [ ! -f "$dir/PG_VERSION" ]; then
    as_pg "$bin/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$dir" -w -t 60 -l "$dir/server.log" \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
  fi
}

pg_cluster_stop() {
  local dir=$1
  [ -f "$dir/PG_VERSION" ] && as_pg "$(pg_bindir)/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
}

# pg_scratch_database DIR PORT DBNAME: a cluster of its own under DIR on 127.0.0.1:PORT (started, or created and
# started) holding an empty database DBNAME with pgvector, for a benchmark to fill and throw away.
pg_scratch_database() {
  local dir=$1 port=$2 db=$3
  pg_cluster_start "$dir" "$port"
  as_pg "$(pg_bindir)/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE $db" >/dev/null
  as_pg "$(pg_bindir)/psql" -h 127.0.0.1 -p "$port" -U postgres -d "$db" -qc "CREATE EXTENSION vector" >/dev/null
}

# A free TCP port on 127.0.0.1, starting the search at $1.
free_port() {
  local port=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}
