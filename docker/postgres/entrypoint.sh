#!/bin/bash
# First start: initdb, the application role (LOGIN REPLICATION CREATEDB) and its database,
# password logins over TCP (replication included). Then the server, as user postgres, with
# wal_level=logical. Environment: POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB.
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
user="${POSTGRES_USER:-cta_admin}" password="${POSTGRES_PASSWORD:-chicago}" db="${POSTGRES_DB:-cta}"
mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
as_postgres() { runuser -u postgres -- "$@"; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  as_postgres "$bin/initdb" -D "$PGDATA" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 --encoding=UTF8 --locale=C >/dev/null
  cat >>"$PGDATA/pg_hba.conf" <<HBA
host all all 0.0.0.0/0 scram-sha-256
host replication all 0.0.0.0/0 scram-sha-256
HBA
  # Socket only while the role and database are made: no client sees a half-made server.
  as_postgres "$bin/pg_ctl" -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  as_postgres "$bin/psql" -v ON_ERROR_STOP=1 -q -U postgres -d postgres \
    -v user="$user" -v password="$password" -v db="$db" <<'SQL'
CREATE ROLE :"user" LOGIN REPLICATION CREATEDB PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"user";
SQL
  as_postgres "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
  echo "postgres: initialised $db for $user"
fi
exec runuser -u postgres -- "$bin/postgres" -D "$PGDATA" -c listen_addresses='*' \
  -c wal_level=logical -c max_wal_senders=10 -c max_replication_slots=10
