#!/usr/bin/env bash
# The README's move from the JSON files to SQLite and then to PostgreSQL, with the llmbatch tool
# on its emulators: create on the JSON files, copy them into SQLite, copy that into PostgreSQL,
# then two fetch workers save the results in the database at once and export writes the files.
# Every job must end completed, every request saved exactly once, and the password of the
# connection string never printed. Needs LLMBATCH_TEST_POSTGRES (run through with_postgres.sh).
# Usage: tool_stores.sh <llmbatch>
set -euo pipefail

llmbatch=$(realpath "$1")
unset GEMINI_API_KEY OPENAI_API_KEY MISTRAL_API_KEY ANTHROPIC_API_KEY
tmp=$(mktemp -d "${TMPDIR:-/tmp}/llmbatch-tool-stores.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail() { echo "FAILED: $*" >&2; exit 1; }
run() { echo "\$ llmbatch ${*//not-printed-pw/(password)}" >&2; "$llmbatch" "$@" 2>>"$tmp/stderr"; }

sources=12
for s in $(seq $sources); do
    for i in 1 2 3; do echo "{\"source\": \"Subject$s/doc.md\", \"prompt\": \"Categorize part $i of $s\"}"; done
done >prompts.jsonl

run create --prompts prompts.jsonl >create.out
run copy --to sqlite:llmbatch.db
# The database given as a URI with a password (the local server trusts everyone): it is never printed.
socket=$(sed -n 's/.*host=\([^ ]*\).*/\1/p' <<<"$LLMBATCH_TEST_POSTGRES")
pg="postgresql://llmbatch:not-printed-pw@/postgres?host=$socket"
run copy --store sqlite:llmbatch.db --to "$pg" | tee copy.out
grep -q "^Copied $sources job(s)" copy.out || fail "copy into PostgreSQL did not copy $sources jobs"
# The store as copy says to use it (without the password) works as printed.
shown=$(sed -n 's/^Use it with: llmbatch <command> --store "\(.*\)"$/\1/p' copy.out)
[[ -n $shown ]] || fail "copy did not say how to use the new store"
run list --store "$shown" | grep -q "^Total: $sources job(s)$" || fail "the store as copy shows it lists no jobs"
run wait --store "$pg" >wait.out

run fetch --store "$pg" --worker w1 --results-in-store >w1.out &
w1=$!
run fetch --store "$pg" --worker w2 --results-in-store >w2.out &
w2=$!
wait "$w1" || fail "worker w1 failed: $(cat w1.out)"
wait "$w2" || fail "worker w2 failed: $(cat w2.out)"
checked=$(( $(sed -n 's/^  Checked: //p' w1.out) + $(sed -n 's/^  Checked: //p' w2.out) ))
[[ $checked -eq $sources ]] || fail "the workers checked $checked jobs between them, not $sources"
[[ ! -e results ]] || fail "--results-in-store wrote result files"

run export --store "$pg" --output-dir results | tee export.out
grep -q "^Exported $(( sources * 3 )) line(s) of $sources job(s) from $sources source(s)" export.out ||
    fail "export did not write every line"
for s in $(seq $sources); do
    file=results/Subject$s/doc.md.jsonl
    [[ $(wc -l <"$file") -eq 3 ]] || fail "$file does not hold 3 lines"
    [[ $(grep -c '"status":"ok"' "$file") -eq 3 ]] || fail "$file holds errors"
done
run list --store "$pg" --status completed | grep -q "^Total: $sources job(s)$" || fail "not every job is completed"
# A second export changes nothing.
before=$(cat results/*/doc.md.jsonl | md5sum)
run export --store "$pg" --output-dir results >/dev/null
[[ $(cat results/*/doc.md.jsonl | md5sum) == "$before" ]] || fail "a second export changed the files"

if grep -rq "not-printed-pw" "$tmp"/*.out "$tmp/stderr"; then fail "the password was printed"; fi
echo "OK: $sources jobs moved from the JSON files to SQLite to PostgreSQL, fetched by two workers, exported once each"
