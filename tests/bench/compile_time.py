#!/usr/bin/env python3
"""Compile time of an application unit using GeminiProvider + LLMService, against a unit using
nlohmann/json and {fmt} alone: header-only, and with LLMBATCH_SEPARATE_COMPILATION (the
library's own source file is compiled once, apart, and not counted). Each unit is compiled
--runs times at -O0 and -O2; the best time counts. Prints the times and the ratios.

Usage: compile_time.py [--runs N] -- <compiler and its flags...>"""
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def best_time(cmd, runs):
    best = None
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
            raise SystemExit(f"compile_time: the compile failed: {' '.join(cmd)}")
        best = elapsed if best is None else min(best, elapsed)
    return best


def main():
    args = sys.argv[1:]
    runs = 3
    if args[:1] == ["--runs"]:
        runs, args = int(args[1]), args[2:]
    if args[:1] != ["--"] or len(args) < 2:
        raise SystemExit(__doc__)
    compiler = args[1:]
    units = {"nlohmann + fmt": ("baseline.cpp", []),
             "GeminiProvider + LLMService, header-only": ("gemini_service.cpp", []),
             "GeminiProvider + LLMService, separate compilation": ("gemini_service.cpp",
                                                                   ["-DLLMBATCH_SEPARATE_COMPILATION"])}
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "unit.o")
        for level in ("-O0", "-O2"):
            times = {}
            for label, (source, extra) in units.items():
                cmd = compiler + ["-std=c++20", level] + extra + ["-c", os.path.join(HERE, "compile", source), "-o", out]
                times[label] = best_time(cmd, runs)
            base = times["nlohmann + fmt"]
            print(f"compile time at {level}, best of {runs} ({os.path.basename(compiler[0])}):")
            for label, seconds in times.items():
                print(f"  {label:52} {seconds:6.2f} s  {seconds / base:5.2f}x the baseline")


if __name__ == "__main__":
    main()
