#!/usr/bin/env bash
# Runs a command with LLMBATCH_TEST_POSTGRES set to the connection string of a throw-away
# PostgreSQL cluster in a temporary folder (Unix socket only, no TCP port), stopped and removed
# afterwards. Exits 77 (a skipped test, for meson) saying why when no server can be started here:
# the PostgreSQL server (Debian's postgresql package) is not installed or does not start.
# Usage: with_postgres.sh <command> [args...]
set -euo pipefail

skip() {
    echo "SKIPPED: the PostgreSQL store tests need a local PostgreSQL server: $*" >&2
    exit 77
}

bindir=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
[[ -n $bindir && -x $bindir/initdb && -x $bindir/pg_ctl ]] ||
    skip "no server programs under /usr/lib/postgresql (install Debian's postgresql package)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/llmbatch-pg.XXXXXX")
as_server=()
if [[ $(id -u) -eq 0 ]]; then
    # The server refuses to run as root: run it as the postgres user the package creates.
    id postgres >/dev/null 2>&1 || skip "running as root and there is no postgres user to run the server as"
    chmod 755 "$tmp"
    chown postgres "$tmp"
    as_server=(runuser -u postgres --)
fi

stop() {
    "${as_server[@]}" "$bindir/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap stop EXIT

if ! "${as_server[@]}" "$bindir/initdb" -D "$tmp/data" -A trust -U llmbatch --no-sync >"$tmp/initdb.log" 2>&1; then
    cat "$tmp/initdb.log" >&2
    skip "initdb failed"
fi
if ! "${as_server[@]}" "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 \
        -o "-c listen_addresses='' -k $tmp -c fsync=off -c max_connections=50" start >/dev/null 2>&1; then
    cat "$tmp/server.log" >&2 || true
    skip "the server did not start"
fi
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') running in $tmp (Unix socket)"

export LLMBATCH_TEST_POSTGRES="host=$tmp user=llmbatch dbname=postgres"
"$@"
