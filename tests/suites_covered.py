#!/usr/bin/env python3
"""Fails, naming them, when test cases of a doctest executable belong to none of the given suites
(meson runs the executable once per suite, so such a case would never run).
Usage: suites_covered.py <test executable> <suite>..."""
import subprocess
import sys


def names(exe, *args):
    out = subprocess.run([exe, "--list-test-cases", "--no-version=true", *args], check=True,
                         capture_output=True, text=True).stdout
    return {line for line in out.splitlines() if line and not line.startswith(("[doctest]", "====="))}


def main():
    exe, suites = sys.argv[1], sys.argv[2:]
    every = names(exe)
    covered = names(exe, "--test-suite=" + ",".join(suites))
    outside = sorted(every - covered)
    for name in outside:
        print(f"outside the suites {', '.join(suites)}: {name}")
    print(f"{len(every)} test case(s), {len(outside)} outside the suites")
    return 1 if outside else 0


if __name__ == "__main__":
    sys.exit(main())
