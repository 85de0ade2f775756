#!/usr/bin/env bash
# The first run: builds jobd, starts it on its embedded default in ./demo (store, sockets), lets
# the demo plugin submit a handful of jobs, and shows them move live with `jobctl watch`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target jobd jobctl demo >/dev/null
mkdir -p demo
cd demo
jobd="$root/build/bin/jobd"
jobctl="$root/build/bin/jobctl"

# The embedded default loads every plugin next to jobd: here the demo plugin, a pretend backend
# that moves each demo job one state a second, and fails every third job with a reason.
JOBD_PLUGINS_DEMO_STEP=1s "$jobd" 2> jobd.log &
jobd_pid=$!
trap 'kill $jobd_pid 2>/dev/null || true; wait $jobd_pid 2>/dev/null || true' EXIT

# Wait (with a deadline) until jobd answers.
for _ in $(seq 1 100); do
    "$jobctl" stats >/dev/null 2>&1 && break
    sleep 0.1
done
echo "jobd is running (pid $jobd_pid) on its embedded default; its log is demo/jobd.log."
echo "Transitions, live (jobctl watch):"
"$jobctl" watch --count 24 2> watch.err &
watch_pid=$!
for _ in $(seq 1 100); do
    grep -q watching watch.err && break
    sleep 0.1
done
for name in daily-orders-etl clickstream-sessionize fx-rates-load customer-dedupe \
            inventory-snapshot ads-attribution; do
    printf '{"name": "%s", "kind": "demo", "backend": "demo", "appResource": "hdfs:///jobs/%s.jar"}' \
        "$name" "$name" | "$jobctl" submit - >/dev/null
done
sleep 2.5
echo "--- jobctl cancel job-5 (while it runs)"
"$jobctl" cancel job-5 || true
wait $watch_pid || true
echo
echo "--- jobctl ls"
"$jobctl" ls
echo
echo "--- jobctl show job-3"
"$jobctl" show job-3
echo
echo "--- jobctl stats"
"$jobctl" stats
