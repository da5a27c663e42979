#!/usr/bin/env python3
"""Runs the compile-fail cases and checks the text of each one's first error.

Usage: check_first_error.py --control CONTROL.cpp CASE.cpp... -- COMPILER [ARGS...]

The control must compile. Each case must fail to compile, and its first error line must
contain the text the case gives on a line of its own, `// first error: TEXT`. Prints one line
per case with the compiler's first error; exits 1 when anything is off.
"""
import concurrent.futures
import os
import re
import subprocess
import sys

EXPECT = re.compile(r"^// first error: (.+?)\s*$", re.MULTILINE)
ERROR_LINE = re.compile(r"(^|: )(fatal )?error: ")


def compile_file(command, path):
    env = dict(os.environ, LC_ALL="C", LANG="C")  # plain ASCII quotes in g++'s messages
    done = subprocess.run(command + ["-fdiagnostics-color=never", path], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return done.returncode, done.stdout


def check_case(command, path):
    """Returns (ok, report) for one must-not-compile case."""
    name = os.path.basename(path)
    with open(path, encoding="utf-8") as f:
        expected = EXPECT.findall(f.read())
    if len(expected) != 1:
        return False, f"FAIL {name}: needs exactly one '// first error: TEXT' line"
    code, output = compile_file(command, path)
    if code == 0:
        return False, f"FAIL {name}: compiled but must not"
    first = next((line for line in output.splitlines() if ERROR_LINE.search(line)), None)
    if first is None:
        return False, f"FAIL {name}: no error line in the compiler's output:\n{output}"
    if expected[0] not in first:
        return False, (f"FAIL {name}: the first error lacks the expected text\n"
                       f"  expected: {expected[0]}\n  first error: {first}\n{output}")
    return True, f"ok   {name}: {first}"


def main(argv):
    if "--" not in argv or len(argv) < 4 or argv[0] != "--control":
        print(__doc__, file=sys.stderr)
        return 2
    split = argv.index("--")
    control, cases, command = argv[1], argv[2:split], argv[split + 1:]
    code, output = compile_file(command, control)
    if code != 0:
        print(f"FAIL {os.path.basename(control)}: the control must compile:\n{output}")
        return 1
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda case: check_case(command, case), cases))
    for _, report in results:
        print(report)
    failed = sum(1 for ok, _ in results if not ok)
    print(f"{len(results) - failed} compile-fail case(s) failed as expected, {failed} did not")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
