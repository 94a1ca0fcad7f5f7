#!/bin/sh
# SPDX-License-Identifier: MIT
# kvmgrid's two Quick start commands (README.md), for a fresh Debian 12 machine,
# as root or with sudo:
#
#   ./run.sh demo    install what is missing, build, run the main job on embedded defaults
#   ./run.sh test    install what is missing, build, run the whole test suite
#                    (once with -Werror, once more under AddressSanitizer + UBSan),
#                    then fuzz every parser of outside input with libFuzzer (clang)
#
# and a third one:
#
#   ./run.sh package [--out DIR]   install the packaging tools, build the Debian
#                    packages into DIR (default dist/) and check them with lintian
#                    (tools/package.sh)
#
# Environment: KG_JOBS (build and ctest parallelism, default: nproc), KG_TEST_BUILDS
# ("werror asan fuzz" by default; "werror" alone for a quicker local run),
# KG_FUZZ_SECONDS (how long each fuzz target runs in the fuzz pass, default 30),
# KG_CTEST_ARGS (extra ctest arguments, e.g. "-L unit").
set -eu
top=$(cd "$(dirname "$0")" && pwd)
# The demo's guests and the end-to-end tests run under libvirtd's system instance,
# and packages install through apt-get: both need root. A user with sudo gets it here.
case "${1:-}" in
demo|test)
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "run.sh: $1 needs root (or sudo)" >&2; exit 1; }
        exec sudo -E "$0" "$@"
    fi ;;
esac
cd "$top"
jobs=${KG_JOBS:-$(nproc 2>/dev/null || echo 2)}

usage() {
    sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//'
}

# ctest_args PASS: KG_CTEST_ARGS, and on every pass after the first "-LE fresh":
# the fresh-root tests (label fresh: bare Debian roots, minutes each) prove a
# first run on a bare machine, which takes one pass per command, not one per build.
# ctest keeps one -LE only, so an -LE in KG_CTEST_ARGS is merged into it.
ctest_args() {
    if [ "$1" -eq 1 ]; then echo "${KG_CTEST_ARGS:-}"; return 0; fi
    _args=""; _le=fresh; _next=""
    for _a in ${KG_CTEST_ARGS:-}; do
        if [ -n "$_next" ]; then _le="$_le|$_a"; _next=""; continue; fi
        case "$_a" in -LE|--label-exclude) _next=1 ;; *) _args="$_args $_a" ;; esac
    done
    echo "$_args -LE $_le"
}

build() { # build DIR CMAKE_ARGS...
    dir=$1; shift
    cmake -S "$top" -B "$top/$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    cmake --build "$top/$dir" -j "$jobs"
}

case "${1:-}" in
test)
    "$top/third_party/install.sh" build run test fuzz e2e bench package
    pass=0
    for kind in ${KG_TEST_BUILDS:-werror asan fuzz}; do
        pass=$((pass + 1))
        only=""
        case "$kind" in
        werror) dir=build; build $dir -DKVMGRID_WERROR=ON ;;
        asan)   dir=build-asan
                build $dir -DKVMGRID_WERROR=ON -DKVMGRID_SANITIZE=address,undefined ;;
        # The libFuzzer targets only (tests/fuzz), each run for KG_FUZZ_SECONDS
        # with ASan + UBSan; they build warning-free under clang as well.
        fuzz)   dir=build-fuzz; only="-L ^fuzz\$"
                CC=clang cmake -S "$top" -B "$top/$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
                    -DKVMGRID_WERROR=ON -DKVMGRID_FUZZ=ON >/dev/null
                cmake --build "$top/$dir" -j "$jobs" --target fuzz_targets ;;
        *) echo "run.sh: unknown build kind '$kind'" >&2; exit 2 ;;
        esac
        echo "== ctest ($kind)"
        # shellcheck disable=SC2086,SC2046 # word splitting of the ctest arguments is meant
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        LSAN_OPTIONS="suppressions=$top/tests/lsan.supp" \
            ctest --test-dir "$top/$dir" --output-on-failure -j "$jobs" $(ctest_args "$pass") $only
    done
    ;;
demo)
    "$top/third_party/install.sh" build run e2e
    build build
    shift; exec "$top/tools/demo.sh" "$@"
    ;;
package)
    "$top/third_party/install.sh" build run package
    shift; exec "$top/tools/package.sh" "$@"
    ;;
-h|--help|help) usage ;;
*) usage >&2; exit 2 ;;
esac
