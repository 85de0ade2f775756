#!/usr/bin/env bash
# Builds the libFuzzer targets (clang) and runs each from its corpus (tests/fuzz/corpus/NAME).
#   scripts/fuzz.sh [SECONDS]   each target for SECONDS (default 30)
#   scripts/fuzz.sh --ci        CI's budget: each target until 600,000 inputs or its time in
#                               the table below, whichever comes first (about 2 minutes in all)
#   scripts/fuzz.sh --long      each target for RUNS inputs (default 2,000,000; config alone
#                               takes about 17 minutes of it): every decoder sees millions
# The first UBSan or ASan report stops a run (-fno-sanitize-recover=all, halt_on_error=1) and
# fails the script. A failing input is copied into the target's corpus: fix the bug, then commit
# the input with the fix, so that every later run replays it first.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=seconds
seconds=30
case "${1:-}" in
    --ci) mode=ci ;;
    --long) mode=long ;;
    -h|--help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
    "") ;;
    *[!0-9]*) echo "fuzz.sh: '$1' is not a number of seconds, --ci or --long (see --help)" >&2
        exit 2 ;;
    *) seconds=$1 ;;
esac
runs=${RUNS:-2000000}

# --ci: seconds per target, a cap: each stops at 600,000 inputs first (1,000,000 before
# 2026-12-05). Measured on this 2-core
# machine (scripts/fuzz.sh --ci, shared with other builds): reply 167k inputs/s, admin 100k,
# job 83k, kafka_status 83k, spark 56k, event 48k, jscan 37k: each reaches the million in 6 to
# 27 s. The slow ones (config about 2k/s: each input goes through a file for zconfig; cause,
# channels, curve_cert, notifier, http: 4k-17k/s) stop at their time: 12 s by default, 20 for
# config; --long gives each the million. With 20 targets run one after another the step took
# 302 s and the whole CI run 849 s (2026-12-04, the machine otherwise idle): the slow ones went
# from 15 s (config 25) to 12 s (20). Since then two targets run at a time. cl_msg (the changelog
# decoder, about 55k/s) keeps the default. With the cluster's tests CI took 900 s and more
# (2026-12-04): no target runs past 30 s now (kafka_status, jscan, reply, event, spark and job
# stop at their time, short of the million); --long still gives each its million. With the
# cluster's rolling restart and heartbeat tests CI took 855 s (2026-12-04): the targets that stop
# at their time (curve_cert, notifier, config, channels, cause, store_verify, json) get 8 s, config
# 12, which saves about 16 s of the step. With the cluster's repair, re-claim and refusal tests
# CI took 880 s and more (2026-12-05): a target stops at 600,000 inputs now (the fast ones took
# 4 to 20 s to their million: event, kafka_status, jscan 17 to 20 s), spark at 20 s (32k/s);
# about 35 s less for the step. --long still gives each its millions.
declare -A ci_seconds=([admin]=30 [query]=30 [event]=30 [reply]=30 [kafka_status]=30 [jscan]=30
    [config]=12 [spark]=20 [job]=30)

scripts/deps.sh
CC=clang cmake -S . -B build-fuzz -DJOBD_FUZZ=ON -DJOBD_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target jobd_fuzz_targets
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1}
# Two targets at a time (one per core: each fuzzer is one process on one core); the whole step
# takes about half the time one after another did.
parallel=$(nproc)
failed=build-fuzz/failed
rm -rf "$failed"
mkdir -p "$failed"
run_target() {
    local target=$1 name short corpus work artifacts limits input line
    name=$(basename "$target")
    short=${name#fuzz_}
    corpus=tests/fuzz/corpus/$short
    work=$(mktemp -d)
    artifacts=build-fuzz/artifacts/$short
    rm -rf "$artifacts"
    mkdir -p "$artifacts"
    [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
    case $mode in
        seconds) limits=(-max_total_time="$seconds") ;;
        ci) limits=(-runs=600000 -max_total_time="${ci_seconds[$short]:-8}") ;;
        long) limits=(-runs="$runs") ;;
    esac
    echo "fuzz: $name (${limits[*]})" >&2
    if ! "$target" "${limits[@]}" -max_len=65536 -print_final_stats=1 \
            -artifact_prefix="$artifacts/" "$work" > "build-fuzz/$name.log" 2>&1; then
        {
            echo "fuzz: $name FAILED; see build-fuzz/$name.log"
            tail -n 40 "build-fuzz/$name.log"
        } >&2
        mkdir -p "$corpus"
        for input in "$artifacts"/*; do
            [ -f "$input" ] || continue
            cp "$input" "$corpus/"
            echo "fuzz: reproducer kept as $corpus/$(basename "$input"): commit it with the fix" >&2
        done
        touch "$failed/$name"
    else
        line=$(grep -a -E "stat::number_of_executed_units|stat::average_exec_per_sec" \
            "build-fuzz/$name.log" | tr '\n' ' ' || true)
        echo "fuzz: $name done: $line" >&2
    fi
    rm -rf "$work"
}
for target in build-fuzz/bin/fuzz_*; do
    while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do
        wait -n || true
    done
    run_target "$target" &
done
wait
status=0
for name in "$failed"/*; do
    [ -e "$name" ] || continue
    echo "fuzz: $(basename "$name") failed" >&2
    status=1
done
exit $status
