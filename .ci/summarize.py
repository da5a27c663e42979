#!/usr/bin/env python3
"""Prints "N passed, N failed" for the CI builds.

Arguments are DIR=failed (the build could not be set up or compiled: 1 failed) or
DIR=tested:RC (meson test ran with exit status RC). For a tested build every entry of
DIR/meson-logs/testlog.json counts: a doctest executable by the cases in its summary line
"[doctest] test cases: T | P passed | F failed | S skipped", any other test as 1 passed or
1 failed by its meson result. A missing or unreadable testlog counts as 1 failed, and so
does a failure the counts would otherwise hide (a failing meson result or exit status with
no failed case).
"""

import json
import re
import sys
from pathlib import Path

DOCTEST_SUMMARY = re.compile(
    r"\[doctest\] test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed\s*\|\s*(\d+) skipped")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
PASSING_RESULTS = {"OK", "EXPECTEDFAIL"}
NEUTRAL_RESULTS = {"SKIP"}


def count_entry(entry):
    """Returns (passed, failed) for one meson test entry."""
    result = str(entry.get("result", "")).upper()
    output = ANSI_ESCAPE.sub("", (entry.get("stdout") or "") + "\n" + (entry.get("stderr") or ""))
    matches = DOCTEST_SUMMARY.findall(output)
    if matches:
        _, passed, failed, _ = (int(x) for x in matches[-1])
        if failed == 0 and result not in PASSING_RESULTS | NEUTRAL_RESULTS:
            failed = 1  # e.g. a crash or timeout after doctest printed its summary
        return passed, failed
    if result in PASSING_RESULTS:
        return 1, 0
    if result in NEUTRAL_RESULTS:
        return 0, 0
    return 0, 1


def count_build(directory, status):
    """Returns (passed, failed) for one build directory."""
    if status == "failed":
        return 0, 1
    rc = int(status.split(":", 1)[1]) if ":" in status else 0
    log = Path(directory) / "meson-logs" / "testlog.json"
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        entries = [json.loads(line) for line in lines if line.strip()]
    except (OSError, ValueError) as error:
        print(f"{directory}: no usable test log ({error})", file=sys.stderr)
        return 0, 1
    passed = failed = 0
    for entry in entries:
        p, f = count_entry(entry)
        passed += p
        failed += f
    if not entries or (rc != 0 and failed == 0):
        failed += 1
    return passed, failed


def main(argv):
    passed = failed = 0
    for arg in argv:
        directory, _, status = arg.partition("=")
        p, f = count_build(directory, status)
        print(f"{directory}: passed={p} failed={f}", file=sys.stderr)
        passed += p
        failed += f
    if not argv:
        failed += 1
    print(f"{passed} passed, {failed} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
