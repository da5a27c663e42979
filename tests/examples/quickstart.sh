#!/usr/bin/env bash
# Runs the quickstart with each provider (--provider gemini, openai, mistral, anthropic) on its in-memory
# emulator and checks what it prints: the three documents, each with its category, after PENDING
# (but for Anthropic) and RUNNING statuses, and a job name in the provider's own form. With a second argument (the
# emulator_server program) it also runs the quickstart unchanged through the libcurl transport
# against that server (serving the same provider) on a loopback port, and checks both outputs are
# identical.
# Usage: quickstart.sh <quickstart> [<emulator_server>]
set -euo pipefail

quickstart=$1
server=${2:-}
unset GEMINI_API_KEY OPENAI_API_KEY MISTRAL_API_KEY ANTHROPIC_API_KEY
tmp=$(mktemp -d "${TMPDIR:-/tmp}/llmbatch-quickstart.XXXXXX")
server_pid=
stop_server() {
    if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    server_pid=
}
cleanup() {
    stop_server
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "FAILED: $*" >&2; exit 1; }

# The job name each provider hands out.
declare -A job_pattern=(
    [gemini]='batches/[a-z0-9]\{36\}'
    [openai]='batch_[0-9a-f]\{32\}'
    [mistral]='[0-9a-f]\{8\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{12\}'
    [anthropic]='msgbatch_[0-9A-Za-z]\{24,\}'
)

for provider in gemini openai mistral anthropic; do
    out=$tmp/$provider.memory.out
    "$quickstart" --provider "$provider" >"$out" 2>"$tmp/$provider.memory.err" ||
        { cat "$out" "$tmp/$provider.memory.err"; fail "quickstart --provider $provider exited non-zero"; }
    cat "$out"
    expect_line() { grep -qxF -- "$1" "$out" || fail "$provider: missing line: $1"; }
    expect_line "Creating batch job..."
    expect_line "Waiting for completion..."
    # Anthropic's batches start in_progress: they have no pending state.
    [[ $provider == anthropic ]] || expect_line "  Status: PENDING"
    expect_line "  Status: RUNNING"
    expect_line "Fetching results..."
    expect_line "Document: Geography GCSE specification document"
    expect_line "Document: French GCSE speaking assessment"
    expect_line "Document: Mathematics GCSE past paper 2023"
    # Each document is followed by its category, in input order.
    grep -A1 '^Document: ' "$out" | grep '^Category: ' | sed -E 's/.*"category":"([A-Za-z]+)".*/\1/' >"$tmp/categories"
    printf 'Humanities\nLanguages\nSTEM\n' | diff - "$tmp/categories" || fail "$provider: categories differ"
    grep -q "^Created job: ${job_pattern[$provider]}\$" "$out" || fail "$provider: no job name of the provider's form"
    grep -q "built-in .* emulator" "$tmp/$provider.memory.err" || fail "$provider: the emulator was not named on stderr"
    echo "in-memory quickstart ($provider): ok"

    [[ -n $server ]] || continue

    rm -f "$tmp/port"
    "$server" --provider "$provider" --port-file "$tmp/port" --advance-per-poll 10 >"$tmp/server.out" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do [[ -s $tmp/port ]] && break; sleep 0.05; done
    [[ -s $tmp/port ]] || { cat "$tmp/server.out"; fail "the $provider emulator server did not start"; }
    port=$(cat "$tmp/port")
    base_url=http://127.0.0.1:$port
    [[ $provider == openai ]] && base_url+=/v1  # OpenAI's base URL holds the API version
    "$quickstart" --provider "$provider" --base-url "$base_url" --poll-interval 0.01 \
        >"$tmp/$provider.loopback.out" 2>"$tmp/$provider.loopback.err" ||
        { cat "$tmp/$provider.loopback.out" "$tmp/$provider.loopback.err"; fail "$provider: quickstart against the loopback server exited non-zero"; }
    stop_server
    diff "$out" "$tmp/$provider.loopback.out" || fail "$provider: output through libcurl and the loopback server differs"
    grep -q "through libcurl" "$tmp/$provider.loopback.err" || fail "$provider: the loopback run did not use libcurl"
    echo "loopback quickstart ($provider) through libcurl: identical output"
done
