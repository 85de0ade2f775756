#!/usr/bin/env bash
# Builds the libFuzzer targets (clang) and runs each for SECONDS (default 30) from its corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
scripts/deps.sh
CC=clang cmake -S . -B build-fuzz -DJOBD_FUZZ=ON -DJOBD_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target jobd_fuzz_targets
status=0
for target in build-fuzz/bin/fuzz_*; do
    name=$(basename "$target")
    corpus=tests/fuzz/corpus/${name#fuzz_}
    work=$(mktemp -d)
    [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
    echo "fuzz: $name for ${seconds}s" >&2
    if ! "$target" -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 "$work" \
            > "build-fuzz/$name.log" 2>&1; then
        echo "fuzz: $name FAILED; see build-fuzz/$name.log" >&2
        tail -n 40 "build-fuzz/$name.log" >&2
        status=1
    else
        grep -a -E "stat::number_of_executed_units" "build-fuzz/$name.log" >&2 || true
    fi
    rm -rf "$work"
done
exit $status
