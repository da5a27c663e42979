#!/usr/bin/env python3
"""Compile time of an application unit using GeminiProvider + LLMService, against a unit using
nlohmann/json and {fmt} alone: header-only, and with LLMBATCH_SEPARATE_COMPILATION. In that
mode the application's one library source file (compile/library.cpp: the library's non-template
code and GeminiProvider for the application's transport) is compiled once, apart: its time is
printed but is not the unit's. Each unit is compiled --runs times at -O0 and -O2, the units in
turn; the best time counts. Prints the times and the ratios. With --link FLAGS (one argument,
split on spaces), the separately compiled unit and the library source are also linked, to show
they make a program.

Usage: compile_time.py [--runs N] [--link FLAGS] -- <compiler and its flags...>"""
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
    link = None
    while args[:1] in (["--runs"], ["--link"]):
        if args[0] == "--runs":
            runs = int(args[1])
        else:
            link = args[1].split()
        args = args[2:]
    if args[:1] != ["--"] or len(args) < 2:
        raise SystemExit(__doc__)
    compiler = args[1:]
    units = {"nlohmann + fmt": ("baseline.cpp", []),
             "GeminiProvider + LLMService, header-only": ("gemini_service.cpp", []),
             "GeminiProvider + LLMService, separate compilation": ("gemini_service.cpp",
                                                                   ["-DLLMBATCH_SEPARATE_COMPILATION"])}
    library = ("library.cpp", ["-DLLMBATCH_SEPARATE_COMPILATION"])
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "unit.o")
        for level in ("-O0", "-O2"):
            # Interleaved, so a slow spell of the machine weighs on every unit alike.
            times = {}
            for _ in range(runs):
                for label, (source, extra) in units.items():
                    cmd = compiler + ["-std=c++20", level] + extra + ["-c", os.path.join(HERE, "compile", source), "-o",
                                                                      out]
                    seconds = best_time(cmd, 1)
                    times[label] = min(times.get(label, seconds), seconds)
            base = times["nlohmann + fmt"]
            print(f"compile time at {level}, best of {runs} ({os.path.basename(compiler[0])}):")
            for label, seconds in times.items():
                print(f"  {label:52} {seconds:6.2f} s  {seconds / base:5.2f}x the baseline")
            objects = []
            for source, extra in (units["GeminiProvider + LLMService, separate compilation"], library):
                objects.append(os.path.join(tmp, source + ".o"))
                cmd = compiler + ["-std=c++20", level] + extra + ["-c", os.path.join(HERE, "compile", source), "-o",
                                                                  objects[-1]]
                seconds = best_time(cmd, 1)
            print(f"  {'(the library source, compiled once, apart)':52} {seconds:6.2f} s")
            if link is not None:
                done = subprocess.run(compiler + objects + ["-o", os.path.join(tmp, "app")] + link,
                                      capture_output=True, text=True)
                if done.returncode != 0:
                    sys.stderr.write(done.stderr)
                    raise SystemExit("compile_time: the separately compiled unit and library source do not link")
                print("  the unit and the library source link into one program")


if __name__ == "__main__":
    main()
