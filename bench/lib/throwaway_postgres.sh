# Sourced by the bench scripts: a throwaway PostgreSQL cluster under $WORK (initdb and pg_ctl of
# the newest installed PostgreSQL, as the postgres user when run as root) on a free loopback port,
# with a database `nautobot` holding Nautobot's tables (tests/support/nautobot_schema.sql).
#   start_throwaway_postgres WORK ROOT [postgres -c settings...]: sets PGBIN, AS_PG, PGPORT, PSQL
#     (psql as an array: "${PSQL[@]}" -d nautobot -c ...).
#   stop_throwaway_postgres WORK: stops it if it runs (for the script's EXIT trap).
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
AS_PG=(); [ "$(id -u)" = 0 ] && AS_PG=(setpriv --reuid=postgres --regid=postgres --init-groups --)

start_throwaway_postgres() {
  local work=$1 root=$2 settings=()
  shift 2
  for s in "$@"; do settings+=(-c "$s"); done
  chmod 755 "$work"; mkdir "$work/pg" "$work/pgsock"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$work/pg" "$work/pgsock"
  "${AS_PG[@]}" "$PGBIN/initdb" -D "$work/pg" -A trust -U kjq --no-sync -E UTF8 --no-locale >/dev/null
  PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$work/pg" -w -l "$work/pgsock/log" \
    -o "-c listen_addresses=127.0.0.1 -p $PGPORT -c unix_socket_directories=$work/pgsock ${settings[*]}" start >/dev/null
  PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U kjq)
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE nautobot"
  "${PSQL[@]}" -d nautobot -f "$root/tests/support/nautobot_schema.sql"
}

stop_throwaway_postgres() {
  [ -f "$1/pg/postmaster.pid" ] && "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$1/pg" -m immediate stop >/dev/null 2>&1
  return 0
}
