#!/usr/bin/env bash
# Runs the quickstart on the in-memory emulator and checks what it prints: the three documents,
# each with its category, after PENDING and RUNNING statuses. With a second argument (the
# gemini_emulator_server program) it also runs the quickstart unchanged through the libcurl
# transport against that server on a loopback port, and checks both outputs are identical.
# Usage: quickstart.sh <quickstart> [<gemini_emulator_server>]
set -euo pipefail

quickstart=$1
server=${2:-}
unset GEMINI_API_KEY
tmp=$(mktemp -d "${TMPDIR:-/tmp}/llmbatch-quickstart.XXXXXX")
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "FAILED: $*" >&2; exit 1; }

"$quickstart" >"$tmp/memory.out" 2>"$tmp/memory.err" || { cat "$tmp/memory.out" "$tmp/memory.err"; fail "quickstart exited non-zero"; }
cat "$tmp/memory.out"

expect_line() { grep -qxF -- "$1" "$tmp/memory.out" || fail "missing line: $1"; }
expect_line "Creating batch job..."
expect_line "Waiting for completion..."
expect_line "  Status: PENDING"
expect_line "  Status: RUNNING"
expect_line "Fetching results..."
expect_line "Document: Geography GCSE specification document"
expect_line "Document: French GCSE speaking assessment"
expect_line "Document: Mathematics GCSE past paper 2023"
# Each document is followed by its category, in input order.
grep -A1 '^Document: ' "$tmp/memory.out" | grep '^Category: ' | sed -E 's/.*"category":"([A-Za-z]+)".*/\1/' >"$tmp/categories"
printf 'Humanities\nLanguages\nSTEM\n' | diff - "$tmp/categories" || fail "categories differ"
grep -q '^Created job: batches/[a-z0-9]\{36\}$' "$tmp/memory.out" || fail "no job name"
echo "in-memory quickstart: ok"

[[ -n $server ]] || exit 0

"$server" --port-file "$tmp/port" --advance-per-poll 10 >"$tmp/server.out" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do [[ -s $tmp/port ]] && break; sleep 0.05; done
[[ -s $tmp/port ]] || { cat "$tmp/server.out"; fail "the emulator server did not start"; }
port=$(cat "$tmp/port")
"$quickstart" --base-url "http://127.0.0.1:$port" --poll-interval 0.01 >"$tmp/loopback.out" 2>"$tmp/loopback.err" ||
    { cat "$tmp/loopback.out" "$tmp/loopback.err"; fail "quickstart against the loopback server exited non-zero"; }
diff "$tmp/memory.out" "$tmp/loopback.out" || fail "output through libcurl and the loopback server differs"
grep -q "through libcurl" "$tmp/loopback.err" || fail "the loopback run did not use libcurl"
echo "loopback quickstart through libcurl: identical output"
