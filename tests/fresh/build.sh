#!/bin/sh
# SPDX-License-Identifier: MIT
# The dependency manifest is complete on a machine that has nothing: in a bare
# Debian 12 root (debootstrap minbase, empty apt lists and cache), a clean
# `git archive` of HEAD installs its packages with `third_party/install.sh build
# run`, builds as README's "Building by hand" says, and passes its unit tests;
# then installs the fuzz group and runs the fuzz pass of ./run.sh test briefly.
set -eu
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/fresh/fresh_lib.sh"

kg_fresh_up
kg_fresh_source /src

# Nothing of the build is there before install.sh runs.
for c in cc cmake pkg-config mosquitto; do
    if kg_fresh_chroot sh -c "command -v $c" >/dev/null 2>&1; then
        kg_die "the bare root already has $c: it is not bare"
    fi
done
kg_pass "the bare root has no compiler, cmake, pkg-config or mosquitto"

kg_fresh_step install kg_fresh_chroot /src/third_party/install.sh build run \
    || kg_die "third_party/install.sh build run failed in the fresh root (see install.log)"
grep -q '^third_party: installing:' "$KG_TMP/install.log" \
    || kg_fail "install.sh installed nothing in a bare root"
# Everything it was asked for is now there: a second run finds nothing missing.
kg_fresh_step install-again kg_fresh_chroot /src/third_party/install.sh build run \
    || kg_die "a second install.sh build run failed (see install-again.log)"
kg_assert_contains "install.sh finds everything installed the second time" \
    "$(cat "$KG_TMP/install-again.log")" "all packages for: build run  are installed"

jobs=${KG_FRESH_JOBS:-2}
kg_fresh_step configure kg_fresh_chroot cmake -S /src -B /src/build \
    || kg_die "cmake configure failed in the fresh root (see configure.log)"
kg_fresh_step build kg_fresh_chroot cmake --build /src/build -j "$jobs" \
    || kg_die "the build failed in the fresh root (see build.log)"
for p in agent/kvmgrid-agent viewer/kvmgrid-wall loadgen/kvmgrid-load; do
    if [ -x "$KG_FRESH_ROOT/src/build/$p" ]; then kg_pass "built $p"; else kg_fail "$p was not built"; fi
done
# A second chance for a failing unit test: some check CPU time against the wall
# clock (loadgen's duty cycle) and fail when the machine is overloaded; what this
# test proves is that they build and run here, and the suite's own pass runs them
# without retries.
kg_fresh_step unit kg_fresh_chroot ctest --test-dir /src/build -L unit --no-tests=error \
    --output-on-failure --repeat until-pass:2 -j "$jobs" \
    || kg_die "unit tests failed in the fresh root (see unit.log)"
kg_pass "unit tests: $(grep -E 'tests passed' "$KG_TMP/unit.log" || echo '?')"

# The fuzz pass of ./run.sh test, as it goes on a new machine: the fuzz group
# (clang and its sanitizer and libFuzzer runtimes), the clang build of the fuzz
# targets, and every target for a few seconds.
kg_fresh_step install-fuzz kg_fresh_chroot /src/third_party/install.sh fuzz \
    || kg_die "third_party/install.sh fuzz failed in the fresh root (see install-fuzz.log)"
kg_fresh_step fuzz-configure kg_fresh_chroot env CC=clang cmake -S /src -B /src/build-fuzz \
    -DKVMGRID_WERROR=ON -DKVMGRID_FUZZ=ON \
    || kg_die "cmake configure of the fuzz build failed in the fresh root (see fuzz-configure.log)"
kg_fresh_step fuzz-build kg_fresh_chroot cmake --build /src/build-fuzz -j "$jobs" --target fuzz_targets \
    || kg_die "the fuzz targets did not build in the fresh root (see fuzz-build.log)"
kg_fresh_step fuzz kg_fresh_chroot env KG_FUZZ_SECONDS=3 ctest --test-dir /src/build-fuzz \
    -L '^fuzz$' --no-tests=error --output-on-failure -j "$jobs" \
    || kg_die "the fuzz targets failed in the fresh root (see fuzz.log)"
kg_pass "fuzz pass: $(grep -E 'tests passed' "$KG_TMP/fuzz.log" || echo '?')"

if [ -n "$(kg_fresh_root_pids)" ]; then
    kg_fail "processes still run inside the root: $(kg_fresh_root_pids | tr '\n' ' ')"
fi
