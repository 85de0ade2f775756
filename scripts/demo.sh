#!/usr/bin/env bash
# The first run: builds jobd, starts spark-sim (a simulator of Spark's REST APIs) and jobd on
# loopback in ./demo, submits a handful of Spark jobs to a standalone master and to Livy, and
# shows them move live with `jobctl watch`: some succeed, one fails with the cluster's reason,
# one is cancelled while it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target jobd jobctl spark-poller spark-sim >/dev/null
rm -rf demo
mkdir -p demo
cd demo
jobctl="$root/build/bin/jobctl"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT

# Spark, simulated: every job queues 1 s and runs 4 s unless its spec says otherwise.
"$root/build/bin/spark-sim" --port 0 --port-file sim.port --scenario "queue=1000,run=4000,outcome=success" \
    > sim.log 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -s sim.port ] && break; sleep 0.1; done
port=$(cat sim.port)

cat > jobd.cfg <<CFG
core
    store = jobd-data
    run_dir = jobd-run
plugins
    spark-poller
        backend
            master
                type = standalone
                url = http://127.0.0.1:$port
                master = spark://127.0.0.1:7077
            livy
                type = livy
                url = http://127.0.0.1:$port
CFG
"$root/build/bin/jobd" -c jobd.cfg 2> jobd.log &
pids+=($!)
for _ in $(seq 1 100); do "$jobctl" stats >/dev/null 2>&1 && break; sleep 0.1; done
echo "spark-sim on http://127.0.0.1:$port, jobd running (logs: demo/jobd.log, demo/sim.log)."
echo "Transitions, live (jobctl watch):"
"$jobctl" watch --count 20 2> watch.err &
watch_pid=$!
for _ in $(seq 1 100); do grep -q watching watch.err && break; sleep 0.1; done

submit () { # backend name scenario
    printf '{"kind":"spark","backend":"%s","name":"%s","appResource":"hdfs:///jobs/%s.jar",
             "mainClass":"com.example.%s","args":["2026-11-28"],
             "sparkProperties":{"spark.driver.memory":"1g","spark.sim.scenario":"%s"}}' \
        "$1" "$2" "$2" "$2" "$3" | "$jobctl" submit - >/dev/null
}
submit master daily-orders-etl "queue=500,run=2500,outcome=success"
submit master fx-rates-load "queue=500,run=1500,outcome=fail,final=ERROR,error=java.io.FileNotFoundException: hdfs:///data/fx/2026-11-28.csv"
submit livy clickstream-sessionize "queue=800,run=3000,outcome=success"
submit livy customer-dedupe "queue=500,run=2000,outcome=fail,error=org.apache.spark.SparkException: Job aborted: stage 3 failed 4 times"
submit master ads-attribution "queue=300,run=60000,outcome=success"
sleep 2
echo "--- jobctl cancel job-5 (while it runs)"
"$jobctl" cancel job-5 || true
wait $watch_pid || true
echo
echo "--- jobctl ls"
"$jobctl" ls
echo
echo "--- jobctl show job-2"
"$jobctl" show job-2
echo
echo "--- jobctl stats"
"$jobctl" stats
