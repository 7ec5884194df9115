#!/usr/bin/env bash
# Stand-in for the official postgres entrypoint: initialise PGDATA once from the POSTGRES_* variables,
# then exec the server as the postgres user (PID 1, so it receives SIGINT/SIGTERM itself).
set -Eeuo pipefail

if [ "${1:0:1}" = '-' ]; then
    set -- postgres "$@"
fi

if [ "$1" = 'postgres' ] && [ "$(id -u)" = '0' ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    find "$PGDATA" /var/run/postgresql \! -user postgres -exec chown postgres:postgres '{}' +
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = 'postgres' ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_USER:=postgres}"
    : "${POSTGRES_DB:=$POSTGRES_USER}"
    auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != 'trust' ]; then
        echo 'error: the database is uninitialized and POSTGRES_PASSWORD is not set' >&2
        echo '       set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust to allow all connections)' >&2
        exit 1
    fi
    pwargs=()
    if [ -n "${POSTGRES_PASSWORD:-}" ]; then
        pwfile="$(mktemp)"
        printf '%s' "$POSTGRES_PASSWORD" > "$pwfile"
        pwargs=(--pwfile="$pwfile")
    fi
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of words, as in the official image
    initdb --username="$POSTGRES_USER" "${pwargs[@]}" -D "$PGDATA" ${POSTGRES_INITDB_ARGS:-} > /dev/null
    [ -n "${pwfile:-}" ] && rm -f "$pwfile"
    printf 'host all all all %s\n' "$auth" >> "$PGDATA/pg_hba.conf"
    printf "listen_addresses = '*'\n" >> "$PGDATA/postgresql.conf"

    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql" -w start > /dev/null
    psql=(psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc --username "$POSTGRES_USER" --dbname postgres)
    if [ "$POSTGRES_DB" != 'postgres' ]; then
        "${psql[@]}" -v db="$POSTGRES_DB" <<< 'CREATE DATABASE :"db";' > /dev/null
    fi
    psql+=(--dbname "$POSTGRES_DB")
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh) echo "running $f"; if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
            *.sql) echo "running $f"; "${psql[@]}" -f "$f" > /dev/null ;;
            *.sql.gz) echo "running $f"; gunzip -c "$f" | "${psql[@]}" > /dev/null ;;
            *) ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop > /dev/null
    echo 'PostgreSQL init process complete; ready for start up.'
fi

exec "$@"
