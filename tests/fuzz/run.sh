#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in their own build directory and runs
# decode_fuzzer for a fixed time over a scratch copy of the seed corpus.
#
#   tests/fuzz/run.sh [seconds]        (default 60)
#
# Environment: ALLSCENE_FUZZ_BUILD_DIR (default <repo>/build-fuzz),
# JOBS (build parallelism, default 2). Exits non-zero when the fuzzer finds a
# crash; the reproducer is left in <build dir>/fuzz-artifacts/.
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${ALLSCENE_FUZZ_BUILD_DIR:-$root/build-fuzz}"
artifacts="$build/fuzz-artifacts"

cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DALLSCENE_FUZZ=ON \
  -DALLSCENE_TESTS=OFF
cmake --build "$build" --target decode_fuzzer -j "${JOBS:-2}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$artifacts"
cp "$root"/tests/fuzz/corpus/decode/* "$work/corpus/"

"$build/tests/fuzz/decode_fuzzer" \
  -max_total_time="$seconds" \
  -timeout=10 \
  -rss_limit_mb=2048 \
  -print_final_stats=1 \
  -artifact_prefix="$artifacts/" \
  "$work/corpus"
