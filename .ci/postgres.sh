#!/usr/bin/env bash
# A PostgreSQL server on 127.0.0.1 for the test suite: install Debian's package if missing, start a
# cluster listening on loopback only, create the role `deskguard` (password `deskguard`, CREATEDB: the
# tests create and drop a fresh database per run) and the database `deskguard_test`.
#
# Idempotent: safe to run again with PostgreSQL already installed, provisioned and running.
# Needs root. Progress goes to stderr; the last line on stdout is the variable the tests read:
#
#   eval "$(sudo bash .ci/postgres.sh)"     # then: make test
#
# Knobs: DESKGUARD_PG_CLUSTER (default main), DESKGUARD_PG_PORT (used when creating a cluster).
set -euo pipefail

cluster="${DESKGUARD_PG_CLUSTER:-main}"
role="deskguard"
password="deskguard" # test-only credential, valid on loopback
database="deskguard_test"

log() { printf 'postgres.sh: %s\n' "$*" >&2; }

if [[ "$(id -u)" != 0 ]]; then
  log "run as root (it installs packages and manages a cluster)"
  exit 1
fi

if ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || ! command -v pg_ctlcluster >/dev/null; then
  log "installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends postgresql >&2
fi

version="$(ls -1 /usr/lib/postgresql | sort -V | tail -n 1)"

cluster_port() { pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $3 }'; }

if [[ -z "$(cluster_port)" ]]; then
  log "creating cluster $version/$cluster"
  create_args=("$version" "$cluster")
  if [[ -n "${DESKGUARD_PG_PORT:-}" ]]; then
    create_args+=(--port "$DESKGUARD_PG_PORT")
  fi
  pg_createcluster "${create_args[@]}" >&2
fi
port="$(cluster_port)"

# Loopback only. Debian's postgresql.conf includes conf.d/, so a drop-in file is enough.
conf_dir="/etc/postgresql/$version/$cluster/conf.d"
conf_file="$conf_dir/deskguard.conf"
wanted="listen_addresses = '127.0.0.1'"
changed=0
if [[ ! -f "$conf_file" ]] || [[ "$(cat "$conf_file")" != "$wanted" ]]; then
  mkdir -p "$conf_dir"
  printf '%s\n' "$wanted" >"$conf_file"
  changed=1
fi

status=0
pg_ctlcluster "$version" "$cluster" status >/dev/null 2>&1 || status=$?
if [[ "$status" == 0 && "$changed" == 1 ]]; then
  log "restarting cluster $version/$cluster (listen address changed)"
  pg_ctlcluster "$version" "$cluster" restart >&2
elif [[ "$status" != 0 ]]; then
  log "starting cluster $version/$cluster on port $port"
  pg_ctlcluster "$version" "$cluster" start >&2
fi

for _ in $(seq 1 60); do
  if pg_isready -q -h 127.0.0.1 -p "$port"; then
    break
  fi
  sleep 0.5
done
pg_isready -h 127.0.0.1 -p "$port" >&2

as_postgres() { (cd /tmp && runuser -u postgres -- "$@"); }

as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres >&2 <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
    CREATE ROLE $role LOGIN CREATEDB PASSWORD '$password';
  ELSE
    ALTER ROLE $role LOGIN CREATEDB PASSWORD '$password';
  END IF;
END
\$\$;
SELECT 'CREATE DATABASE $database OWNER $role'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$database')
\gexec
SQL

# Prove the tests can log in the way they will (TCP on loopback, password).
PGPASSWORD="$password" psql -X -q -h 127.0.0.1 -p "$port" -U "$role" -d "$database" \
  -v ON_ERROR_STOP=1 -c 'SELECT 1' >/dev/null
log "ready: $role@127.0.0.1:$port/$database"

echo "export DESKGUARD_TEST_POSTGRES_URL=postgresql+psycopg://$role:$password@127.0.0.1:$port/$database"
