#!/usr/bin/env bash
# The first run: builds jobd, starts spark-sim (a simulator of Spark's REST APIs), a Kafka
# cluster (librdkafka's mock cluster, the real protocol over loopback TCP) and jobd in ./demo,
# submits a handful of Spark jobs to a standalone master and to Livy, feeds the status events of
# three Kafka jobs with kcat, and shows everything move live with `jobctl watch`: Spark jobs
# succeed, one fails with the cluster's reason, one is cancelled while it runs; a Kafka job
# succeeds, one fails with its reason, one goes silent and is reported stale, then LOST.
# The dashboard (the http plugin) is on a free loopback port; DEMO_KEEP=1 keeps everything
# running at the end, to look at it in a browser, until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
# jobd refuses a config or plugin its group or others can write (core/README.md, "Trusted
# files"): build and write them owner-writable only, whatever the login umask (002 on many systems).
umask 022
root=$(pwd)
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target jobd jobctl spark-poller spark-sim \
    kafka-listener kafka-mock http >/dev/null
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

# Kafka, the mock cluster: the status topic producers write to, jobd's outbound topic.
"$root/build/bin/kafka-mock" --bootstrap-file kafka.bootstrap --topic jobd.status:2 \
    --topic jobd.transitions:1 --topic jobd.dead-letter:1 > /dev/null 2> kafka.log &
pids+=($!)
for _ in $(seq 1 100); do [ -s kafka.bootstrap ] && break; sleep 0.1; done
brokers=$(cat kafka.bootstrap)

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
    kafka-listener
        brokers = $brokers
        transitions = jobd.transitions
        heartbeat = 3s
        stale_grace = 3s
    http
        port = 0
CFG
"$root/build/bin/jobd" -c jobd.cfg 2> jobd.log &
pids+=($!)
for _ in $(seq 1 100); do "$jobctl" stats >/dev/null 2>&1 && break; sleep 0.1; done
dashboard=$(grep -o 'listening on http://[0-9.:]*' jobd.log | head -1 | cut -d' ' -f3)
echo "spark-sim on http://127.0.0.1:$port, Kafka on $brokers, jobd running"
echo "dashboard: $dashboard/ (token for writes: demo/jobd-run/http.token)"
echo "(logs: demo/jobd.log, demo/sim.log, demo/kafka.log)."
echo "Transitions, live (jobctl watch):"
# 20 Spark transitions, 6 Kafka ones and one stale report.
"$jobctl" watch --count 27 2> watch.err &
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

# Kafka jobs report themselves: a status event per change (proto/README.md, section 11), keyed
# by the job so that its events stay in order. Each must speak at least every 3 s while it runs.
produce () { # key json
    echo "$2" | kcat -P -b "$brokers" -t jobd.status -k "$1"
}
produce orders-sync '{"ext":"orders-sync","name":"orders sync","state":"STARTED"}'
produce fx-stream '{"ext":"fx-stream","name":"fx rates stream","state":"RUNNING"}'
produce inventory-feed '{"ext":"inventory-feed","name":"inventory feed","state":"STARTED"}'
sleep 2
echo "--- jobctl cancel job-5 (while it runs)"
"$jobctl" cancel job-5 || true
produce orders-sync '{"ext":"orders-sync","state":"HEARTBEAT","progress":0.6}'
produce fx-stream '{"ext":"fx-stream","state":"ERROR","error":"sink timed out after 30 s"}'
sleep 2
produce orders-sync '{"ext":"orders-sync","state":"COMPLETED","rows":120034}'
# inventory-feed says nothing more: stale after 3 s of silence, LOST 3 s later.
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
echo
echo "--- jobctl plugins"
"$jobctl" plugins
echo
echo "--- the outbound topic jobd.transitions (kcat -C), first lines"
kcat -C -b "$brokers" -t jobd.transitions -e -q 2>/dev/null | head -3
if [ -n "${DEMO_KEEP:-}" ]; then
    echo
    echo "Still running: the dashboard is at $dashboard/ . Ctrl-C stops everything."
    wait
fi
