#!/usr/bin/env bash
# Proves that llmbatch can be used by another project in the three supported ways:
#   a. as a meson subproject (subprojects/llmbatch),
#   b. through pkg-config after `meson install`, from meson and from a plain compiler command, and
#   c. through the CMake package config after `meson install` (find_package(llmbatch CONFIG)).
# Usage: run.sh <llmbatch source root>
# The compiler is taken from $CXX (default: c++). Everything happens in a temporary
# directory that is removed on exit.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 <llmbatch source root>" >&2
    exit 2
fi

src=$(cd "$1" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
consumer="$here/project"
export CXX="${CXX:-c++}"
read -r -a cxx_cmd <<<"$CXX"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/llmbatch-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log="$tmp/step.log"

# Runs one step quietly, printing one line for it; shows the step's output only when it fails.
step() {
    local what=$1
    shift
    echo "==> $what: $*"
    if ! "$@" >"$log" 2>&1; then
        cat "$log"
        echo "FAILED: $what" >&2
        exit 1
    fi
}

# Fails with a message when a check does not hold.
check() {
    local what=$1
    shift
    echo "==> check: $what"
    if ! "$@"; then
        echo "FAILED: $what" >&2
        exit 1
    fi
}

# The consumer must not warn either: headers are on its include path, not the system one.
consumer_opts=(--wrap-mode=nofallback -Dwarning_level=3 -Dwerror=true)

echo "llmbatch source: $src"
echo "compiler: $CXX"

# a. As a subproject. force_fallback_for makes dependency('llmbatch') use the subproject
#    even under --wrap-mode=nofallback (which only forbids falling back implicitly).
mkdir -p "$tmp/sub/subprojects"
cp "$consumer/meson.build" "$consumer/main.cpp" "$tmp/sub/"
ln -s "$src" "$tmp/sub/subprojects/llmbatch"
step "subproject: configure" meson setup "$tmp/sub/build" "$tmp/sub" "${consumer_opts[@]}" -Dforce_fallback_for=llmbatch
check "subproject: llmbatch was configured as a subproject" \
    grep -q "Executing subproject llmbatch" "$tmp/sub/build/meson-logs/meson-log.txt"
step "subproject: compile" meson compile -C "$tmp/sub/build" -j2
step "subproject: run" "$tmp/sub/build/llmbatch-consumer"

# b. Installed, through pkg-config.
prefix="$tmp/prefix"
step "install: configure llmbatch" meson setup "$tmp/inst-build" "$src" --prefix="$prefix" \
    -Dtests=false -Dexamples=false -Dbenchmarks=false --wrap-mode=nofallback
step "install: meson install" meson install -C "$tmp/inst-build"

check "install: headers are in \$prefix/include/llmbatch" test -f "$prefix/include/llmbatch/llmbatch.hpp"
check "install: model.hpp is in \$prefix/include/llmbatch" test -f "$prefix/include/llmbatch/model.hpp"
check "install: nothing is installed under \$prefix/include/include" test ! -e "$prefix/include/include"
stray=$(find "$prefix/include" -mindepth 1 -maxdepth 1 ! -name llmbatch)
check "install: \$prefix/include holds only llmbatch/ (found: ${stray:-nothing else})" test -z "$stray"

pc_file=$(find "$prefix" -path '*/pkgconfig/llmbatch.pc' -print -quit)
check "install: llmbatch.pc was installed (${pc_file:-not found})" test -n "$pc_file"
pc_dir=$(dirname "$pc_file")
export PKG_CONFIG_PATH="$pc_dir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
echo "PKG_CONFIG_PATH=$PKG_CONFIG_PATH"

project_version=$(meson introspect --projectinfo "$tmp/inst-build" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
check "pkg-config: llmbatch's version is the project's ($project_version)" \
    test "$(pkg-config --modversion llmbatch)" = "$project_version"
cflags=$(pkg-config --cflags llmbatch)
libs=$(pkg-config --libs llmbatch)
echo "pkg-config --cflags llmbatch: $cflags"
echo "pkg-config --libs llmbatch: $libs"
check "pkg-config: cflags point into the prefix" grep -qF -- "-I$prefix/include" <<<"$cflags"

mkdir -p "$tmp/pc"
cp "$consumer/meson.build" "$consumer/main.cpp" "$tmp/pc/"
step "pkg-config/meson: configure" meson setup "$tmp/pc/build" "$tmp/pc" "${consumer_opts[@]}"
check "pkg-config/meson: llmbatch was found through pkg-config" \
    grep -Eq "Run-time dependency llmbatch found: YES" "$tmp/pc/build/meson-logs/meson-log.txt"
step "pkg-config/meson: compile" meson compile -C "$tmp/pc/build" -j2
step "pkg-config/meson: run" "$tmp/pc/build/llmbatch-consumer"

# shellcheck disable=SC2086 # pkg-config output is a list of flags
step "pkg-config/plain: compile" "${cxx_cmd[@]}" -std=c++20 -Wall -Wextra -Wpedantic -Werror \
    $cflags "$tmp/pc/main.cpp" $libs -o "$tmp/pc/consumer-plain"
step "pkg-config/plain: run" "$tmp/pc/consumer-plain"

# c. Installed, through CMake's find_package. The project asks for llmbatch 0.1, warnings are errors
#    (the compiler's through the project's -Werror, CMake's own through -Werror=dev).
cmake_opts=(-DCMAKE_PREFIX_PATH="$prefix" -Werror=dev -Werror=deprecated)
mkdir -p "$tmp/cmake"
cp "$consumer/CMakeLists.txt" "$consumer/main.cpp" "$tmp/cmake/"
step "cmake: configure" cmake -S "$tmp/cmake" -B "$tmp/cmake/build" "${cmake_opts[@]}"
check "cmake: llmbatch $project_version was found in the prefix" \
    grep -qF "llmbatch $project_version found in $prefix/" "$log"
step "cmake: compile" cmake --build "$tmp/cmake/build" -j2
step "cmake: run" "$tmp/cmake/build/llmbatch-consumer"

# The version file refuses a newer minor version than the installed one.
IFS=. read -r major minor _ <<<"$project_version"
newer="$major.$((minor + 1))"
mkdir -p "$tmp/cmake-newer"
cp "$consumer/main.cpp" "$tmp/cmake-newer/"
sed "s/find_package(llmbatch [0-9.]* /find_package(llmbatch $newer /" "$consumer/CMakeLists.txt" \
    >"$tmp/cmake-newer/CMakeLists.txt"
check "cmake: the project under test asks for a version (sed changed it to $newer)" \
    grep -qF "find_package(llmbatch $newer " "$tmp/cmake-newer/CMakeLists.txt"
check "cmake: find_package(llmbatch $newer) fails against $project_version" \
    bash -c '! cmake -S "$1" -B "$1/build" "${@:2}" >"$1/log" 2>&1 && grep -q "not accepted" "$1/log"' \
    _ "$tmp/cmake-newer" "${cmake_opts[@]}"

echo "consumer checks passed"
