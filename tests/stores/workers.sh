#!/usr/bin/env bash
# Four worker processes fetch 1,000 jobs from one PostgreSQL job store at once, one of them killed
# mid-run; a fifth worker started after the leases have run out takes what the killed one held.
# Then every job must be completed and its results saved exactly once. The jobs run on the Gemini
# emulator served over HTTP. Needs LLMBATCH_TEST_POSTGRES (run through with_postgres.sh).
# Usage: workers.sh <emulator_server> <fetch_worker>
set -euo pipefail

emulator=$1
worker=$2
jobs=1000
lease_ms=3000
[[ -x $emulator ]] || { echo "SKIPPED: $emulator was not built (it needs cpp-httplib)" >&2; exit 77; }

base=${TMPDIR:-/tmp}
[[ -w /dev/shm ]] && base=/dev/shm  # the results files are synced on every save: keep them in memory
tmp=$(mktemp -d "$base/llmbatch-workers.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

"$emulator" --provider gemini --port 0 --port-file "$tmp/port" >"$tmp/emulator.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s $tmp/port ]] && break; sleep 0.1; done
[[ -s $tmp/port ]] || { cat "$tmp/emulator.log"; echo "the emulator did not start" >&2; exit 1; }
url="http://127.0.0.1:$(cat "$tmp/port")"
db=$LLMBATCH_TEST_POSTGRES

"$worker" seed "$db" "$url" "$jobs"
echo "seeded $jobs jobs on the emulator at $url"

for w in 1 2 3 4; do
    "$worker" run "$db" "$url" "$tmp/results" "worker-$w" "$lease_ms" >"$tmp/worker-$w.out" 2>"$tmp/worker-$w.err" &
    pids+=($!)
    eval "worker_$w=$!"
done
# Kill worker-2 once it is well into its work (it holds claimed jobs it has not finished).
for _ in $(seq 300); do [[ $(wc -l <"$tmp/worker-2.out") -ge 5 ]] && break; sleep 0.05; done
kill -KILL "$worker_2"
wait "$worker_2" 2>/dev/null || true
echo "worker-2 killed after saving $(wc -l <"$tmp/worker-2.out") job(s)"
status=0
for w in 1 3 4; do
    pid_var="worker_$w"
    wait "${!pid_var}" || { echo "worker-$w failed:"; cat "$tmp/worker-$w.err"; status=1; }
    echo "worker-$w saved $(wc -l <"$tmp/worker-$w.out") job(s)"
done
sleep $(( lease_ms / 1000 + 1 ))
"$worker" run "$db" "$url" "$tmp/results" worker-5 "$lease_ms" >"$tmp/worker-5.out"
echo "worker-5 (after the leases ran out) saved $(wc -l <"$tmp/worker-5.out") job(s)"
"$worker" verify "$db" "$tmp/results" "$jobs" || status=1
exit "$status"
