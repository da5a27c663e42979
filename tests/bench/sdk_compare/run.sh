#!/usr/bin/env bash
# Compares llmbatch with the official JavaScript SDK (@google/genai) on one finished Gemini batch
# job with inline results, served over loopback (by llmbatch_stream_bench --serve-inline, its reply
# rendered once and then served as it is): the wall time and peak RSS of
# `llmbatch fetch` (which parses each answer as JSON and saves the results) and of sdk_fetch.mjs
# (batches.get, then JSON.parse of each answer). Not part of the test suite; see README.md.
#
#   tests/bench/sdk_compare/run.sh [-n N] [--repeat R] [--stream-bench PATH] [--llmbatch PATH]
#
# Environment (the options win): N (requests, default 10000), REPEAT (runs of each side, default 3),
# STREAM_BENCH, LLMBATCH (default: ../../../build/... from this folder),
# SDK_PACKAGE (default @google/genai; e.g. @google/genai@1.30.0), MEASURE (auto, time or python),
# KEEP_TMP=1 (keep the temporary folder and say where it is).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "$here/../../.." && pwd)/build

n=${N:-10000}
repeat=${REPEAT:-3}
stream_bench=${STREAM_BENCH:-$build/tests/bench/llmbatch_stream_bench}
llmbatch=${LLMBATCH:-$build/examples/llmbatch/llmbatch}
sdk_package=${SDK_PACKAGE:-@google/genai}
measure=${MEASURE:-auto}

usage() {
    cat <<EOF
usage: $(basename "$0") [-n N] [--repeat R] [--stream-bench PATH] [--llmbatch PATH]
  -n, --requests N        prompts in the one batch job (default 10000)
  --repeat R              runs of each side; the medians are printed (default 3)
  --stream-bench PATH     the llmbatch_stream_bench binary (default $build/tests/bench/llmbatch_stream_bench)
  --llmbatch PATH         the llmbatch binary (default $build/examples/llmbatch/llmbatch)
Environment: N, REPEAT, STREAM_BENCH, LLMBATCH, SDK_PACKAGE, MEASURE=auto|time|python, KEEP_TMP=1.
EOF
}

die() { echo "sdk_compare: $*" >&2; exit 1; }

while (($#)); do
    case $1 in
        -n|--requests) n=${2:?}; shift 2 ;;
        --repeat) repeat=${2:?}; shift 2 ;;
        --stream-bench) stream_bench=${2:?}; shift 2 ;;
        --llmbatch) llmbatch=${2:?}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done

[[ $n =~ ^[1-9][0-9]*$ ]] || die "the number of requests must be a positive integer, not '$n'"
[[ $repeat =~ ^[1-9][0-9]*$ ]] || die "--repeat must be a positive integer, not '$repeat'"
[[ -x $stream_bench ]] || die "no llmbatch_stream_bench at $stream_bench (configure with -Dbenchmarks=true and build it, or pass --stream-bench)"
[[ -x $llmbatch ]] || die "no llmbatch at $llmbatch (build it, or pass --llmbatch)"
for tool in node npm python3; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done

case $measure in
    auto) if /usr/bin/time -v true >/dev/null 2>&1; then measure="time"; else measure="python"; fi ;;
    time) /usr/bin/time -v true >/dev/null 2>&1 || die "MEASURE=time needs GNU time at /usr/bin/time" ;;
    python) ;;
    *) die "MEASURE is auto, time or python, not '$measure'" ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sdk_compare.XXXXXX")
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then
        exec 3>&- || true  # its standard input closes: it stops its server and exits
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ ${KEEP_TMP:-0} == 1 ]]; then
        echo "sdk_compare: kept $tmp" >&2
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# How the binaries were built, when a Meson build folder holds them: an unoptimised build is no
# fair match for the SDK.
build_kind=$(python3 - "$llmbatch" <<'EOF'
import json, os, sys
d = os.path.dirname(os.path.realpath(sys.argv[1]))
while d != os.path.dirname(d):
    f = os.path.join(d, "meson-info", "intro-buildoptions.json")
    if os.path.exists(f):
        o = {x["name"]: x["value"] for x in json.load(open(f))}
        kind = f"buildtype {o.get('buildtype')}, optimization {o.get('optimization')}, b_ndebug {o.get('b_ndebug')}"
        print(kind + (" (UNOPTIMISED: not a fair match for the SDK)" if o.get("optimization") in ("0", "g") else ""))
        break
    d = os.path.dirname(d)
else:
    print("unknown (no Meson build folder above it)")
EOF
)
echo "llmbatch build: $build_kind"

# ---- the SDK, into the temporary folder -----------------------------------------------------------
echo "Installing $sdk_package into a temporary folder..."
mkdir -p "$tmp/sdk"
printf '{"name": "sdk-compare", "private": true, "type": "module"}\n' >"$tmp/sdk/package.json"
(cd "$tmp/sdk" && npm install --no-audit --no-fund --no-save --loglevel=error "$sdk_package" >"$tmp/npm.log" 2>&1) ||
    { cat "$tmp/npm.log" >&2; die "npm install $sdk_package failed (it needs access to the npm registry)"; }
cp "$here/sdk_fetch.mjs" "$tmp/sdk/"
sdk_version=$(node -p 'require(process.argv[1]).version' "$tmp/sdk/node_modules/@google/genai/package.json")

# Everything from here talks to loopback only.
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}" NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export GEMINI_API_KEY=sdk-compare-dummy-key

# A small HTTP client: python3 http METHOD URL [BODY] prints the reply's body.
http_py='
import sys, urllib.request
method, url = sys.argv[1], sys.argv[2]
body = sys.argv[3].encode() if len(sys.argv) > 3 else None
req = urllib.request.Request(url, data=body, method=method,
                             headers={"x-goog-api-key": "sdk-compare-dummy-key", "content-type": "application/json"})
with urllib.request.urlopen(req, timeout=600) as r:
    sys.stdout.buffer.write(r.read())
'
http() { python3 -c "$http_py" "$@"; }

# ---- the served job ----------------------------------------------------------------------------------
# llmbatch_stream_bench makes one finished job of N requests with ~1.5 KB answers, answered out of
# order, renders its reply once and serves it as it is until its standard input (a FIFO held open
# here) closes; it writes the job, tracked for llmbatch, into its folder.
mkfifo "$tmp/hold"
"$stream_bench" --serve-inline "$n" "$tmp/served" <"$tmp/hold" >"$tmp/served.log" 2>&1 &
server_pid=$!
exec 3>"$tmp/hold"
echo "Making and rendering one finished job of $n requests..."
for _ in $(seq 6000); do
    [[ -s $tmp/served/base_url ]] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/served.log" >&2; die "llmbatch_stream_bench --serve-inline stopped"; }
    sleep 0.1
done
[[ -s $tmp/served/base_url ]] || die "llmbatch_stream_bench did not say its address"
base_url=$(tr -d '[:space:]' <"$tmp/served/base_url")
job=$(tr -d '[:space:]' <"$tmp/served/job")
common=(--provider gemini --base-url "$base_url")

# The job must have finished with inline results.
http GET "$base_url/v1beta/$job" >"$tmp/job.json"
python3 - "$tmp/job.json" "$n" <<'EOF' || die "the job is not a finished inline job of $n requests"
import json, sys
op, n = json.load(open(sys.argv[1])), int(sys.argv[2])
state = op.get("metadata", {}).get("state")
if state != "BATCH_STATE_SUCCEEDED":
    sys.exit(f"sdk_compare: the job is {state}, not BATCH_STATE_SUCCEEDED")
got = len(op.get("response", {}).get("inlinedResponses", {}).get("inlinedResponses", []))
if got != n:
    sys.exit(f"sdk_compare: the job holds {got} inline responses, not {n}")
EOF
job_bytes=$(wc -c <"$tmp/job.json")
rm -f "$tmp/job.json"
cp "$tmp/served/jobs.json" "$tmp/jobs.snapshot.json"
if [[ -f $tmp/served/state.json ]]; then cp "$tmp/served/state.json" "$tmp/state.snapshot.json"; fi

# ---- measuring ---------------------------------------------------------------------------------------
# run_measured PREFIX CMD...: runs CMD with stdout to PREFIX.out and stderr to PREFIX.err, and writes
# its wall seconds to PREFIX.wall and its peak RSS (KiB) to PREFIX.rss.
measure_py='
import resource, subprocess, sys, time
prefix, cmd = sys.argv[1], sys.argv[2:]
with open(prefix + ".out", "wb") as out, open(prefix + ".err", "wb") as err:
    start = time.perf_counter()
    rc = subprocess.run(cmd, stdout=out, stderr=err).returncode
    wall = time.perf_counter() - start
open(prefix + ".wall", "w").write(f"{wall:.6f}\n")
open(prefix + ".rss", "w").write(f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\n")
sys.exit(rc)
'
run_measured() {
    local prefix=$1 rc=0
    shift
    if [[ $measure == time ]]; then
        local start end
        start=$EPOCHREALTIME
        /usr/bin/time -v -o "$prefix.time" "$@" >"$prefix.out" 2>"$prefix.err" || rc=$?
        end=$EPOCHREALTIME
        awk -v a="$start" -v b="$end" 'BEGIN { printf "%.6f\n", b - a }' >"$prefix.wall"
        awk -F': ' '/Maximum resident set size/ { print $2 }' "$prefix.time" >"$prefix.rss"
    else
        python3 -c "$measure_py" "$prefix" "$@" || rc=$?
    fi
    if ((rc != 0)); then
        cat "$prefix.err" "$prefix.out" >&2
        die "$1 exited with $rc"
    fi
}

run_llmbatch() {
    local dir=$tmp/llmbatch-$1
    mkdir -p "$dir"
    cp "$tmp/jobs.snapshot.json" "$dir/jobs.json"
    if [[ -f $tmp/state.snapshot.json ]]; then cp "$tmp/state.snapshot.json" "$dir/state.json"; fi
    run_measured "$dir/run" "$llmbatch" --json "${common[@]}" --tracking-file "$dir/jobs.json" \
        --state-file "$dir/state.json" --output-dir "$dir/results" fetch --job-names "$job"
    # The answers it parsed: the results lines of status ok with a value, checked against its summary.
    python3 - "$dir/run.out" "$dir/results/bench.jsonl" >"$dir/parsed" <<'EOF'
import json, sys
summary, results = json.load(open(sys.argv[1])), sys.argv[2]
(job,) = summary["jobs"]
if job["status"] != "completed":
    sys.exit(f"sdk_compare: llmbatch fetch left the job {job['status']} ({job.get('error')})")
ok = 0
lines = 0
with open(results) as f:
    for line in f:
        lines += 1
        r = json.loads(line)
        ok += r["status"] == "ok" and r.get("value") is not None
if lines != job["saved"] or ok != job["saved"] - job["failed_requests"]:
    sys.exit(f"sdk_compare: llmbatch says {job['saved']} saved, {job['failed_requests']} failed, "
             f"but its results file has {lines} lines, {ok} parsed")
print(ok)
EOF
    rm -rf "$dir/results"  # the disk is not what is measured; keep the folder small
}

run_sdk() {
    local dir=$tmp/sdk-$1
    mkdir -p "$dir"
    run_measured "$dir/run" node "$tmp/sdk/sdk_fetch.mjs" "$base_url" "$job"
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["parsed"])' "$dir/run.out" >"$dir/parsed"
}

# An untimed warm-up of each side (the page cache).
echo "Warming up..."
run_llmbatch warmup
run_sdk warmup

echo "Timing $repeat run(s) of each side, alternating which goes first..."
for ((i = 1; i <= repeat; ++i)); do
    if ((i % 2)); then run_llmbatch "$i"; run_sdk "$i"; else run_sdk "$i"; run_llmbatch "$i"; fi
done

# ---- the figures -------------------------------------------------------------------------------------
python3 - "$tmp" "$repeat" "$n" "$sdk_version" "$measure" "$job_bytes" "$build_kind" <<'EOF'
import json, statistics, sys
tmp, repeat, n, sdk_version, measure = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
job_bytes, build_kind = int(sys.argv[6]), sys.argv[7]

def side(name):
    runs = []
    for i in range(1, repeat + 1):
        d = f"{tmp}/{name}-{i}/run"
        wall = float(open(d + ".wall").read())
        rss = int(open(d + ".rss").read()) / 1024
        parsed = int(open(f"{tmp}/{name}-{i}/parsed").read())
        runs.append((wall, rss, parsed))
    return runs

lb, sdk = side("llmbatch"), side("sdk")
counts = {p for _, _, p in lb} | {p for _, _, p in sdk}
if len(counts) != 1:
    print(f"sdk_compare: FAILED: the parsed answers differ: llmbatch {[p for *_, p in lb]}, "
          f"sdk {[p for *_, p in sdk]}", file=sys.stderr)
    sys.exit(1)
(parsed,) = counts
if parsed != n:
    print(f"sdk_compare: warning: both sides parsed {parsed} of {n} answers", file=sys.stderr)

def med(runs, k):
    return statistics.median(r[k] for r in runs)

detail = json.load(open(f"{tmp}/sdk-{repeat}/run.out"))
print()
print(f"{n} requests in one inline job ({job_bytes / 2**20:.1f} MiB GET reply); @google/genai {sdk_version}; "
      f"medians of {repeat} run(s), measured with {'/usr/bin/time -v' if measure == 'time' else 'python3 getrusage'}")
print(f"llmbatch build: {build_kind}")
print(f"llmbatch fetch   wall {med(lb, 0):7.3f} s   peak RSS {med(lb, 1):8.1f} MiB   parsed {parsed}/{n}"
      f"   (walls {', '.join(f'{w:.3f}' for w, _, _ in lb)})")
print(f"@google/genai    wall {med(sdk, 0):7.3f} s   peak RSS {med(sdk, 1):8.1f} MiB   parsed {parsed}/{n}"
      f"   (walls {', '.join(f'{w:.3f}' for w, _, _ in sdk)}; last run: get {detail['get_ms']} ms, "
      f"parse {detail['parse_ms']} ms)")
print(f"llmbatch/sdk wall {med(lb, 0) / med(sdk, 0):.2f}, peak RSS {med(lb, 1) / med(sdk, 1):.2f}")
EOF
