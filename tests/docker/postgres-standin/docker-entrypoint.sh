#!/bin/bash
# The stand-in postgres image's entrypoint (see Dockerfile beside it):
# the official image's documented behaviour, written for this suite.
#
#   - `docker run IMAGE -c x=y` means `postgres -c x=y`;
#   - started as root, it prepares PGDATA and the socket directory and runs
#     itself again as postgres;
#   - an empty PGDATA is initialised once: initdb with POSTGRES_USER as the
#     superuser and POSTGRES_PASSWORD as its password, host connections
#     authenticated by POSTGRES_HOST_AUTH_METHOD (scram-sha-256), the
#     database POSTGRES_DB created, /docker-entrypoint-initdb.d/* run
#     against a temporary server that listens on the Unix socket only (so
#     `pg_isready -h 127.0.0.1` stays false until the real server runs);
#   - a PGDATA that already holds a cluster is used as it is: the POSTGRES_*
#     variables change nothing in it;
#   - anything other than postgres is run as given (`psql`, `sh -c …`).
set -Eeuo pipefail

if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
  exec "$@"
fi

: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
export PGDATA POSTGRES_USER POSTGRES_DB

say() { echo "postgres-standin: $*"; }

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chmod 00700 "$PGDATA"
  chmod 03775 /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

run_initdb_d() {
  local f
  for f in /docker-entrypoint-initdb.d/*; do
    [ -e "$f" ] || continue
    case "$f" in
      *.sh)
        if [ -x "$f" ]; then say "running $f"; "$f"
        else say "sourcing $f"; . "$f"; fi ;;
      *.sql) say "running $f"; psql_init -f "$f" ;;
      *.sql.gz) say "running $f"; gunzip -c "$f" | psql_init ;;
      *.sql.xz) say "running $f"; xzcat "$f" | psql_init ;;
      *) say "ignoring $f" ;;
    esac
  done
}
psql_init() {
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" "$@"
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    cat >&2 <<'EOF'
postgres-standin: the database is uninitialized and POSTGRES_PASSWORD is not set.
  Set POSTGRES_PASSWORD to a password for the superuser, or
  POSTGRES_HOST_AUTH_METHOD=trust to allow every connection without one.
EOF
    exit 1
  fi
  say "initialising $PGDATA"
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of arguments
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
    --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" ${POSTGRES_INITDB_ARGS:-}
  printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
  if [ "$POSTGRES_DB" != postgres ]; then
    psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
      --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  run_initdb_d
  pg_ctl -D "$PGDATA" -m fast -w stop
  say "init complete; ready for start up"
else
  say "$PGDATA holds a cluster; starting it as it is"
fi

exec "$@"
