#!/usr/bin/env bash
# The Debian package on a clean Debian 12, for real: builds the .deb, makes a minimal bookworm root
# (mmdebstrap), installs the package there with apt (its Depends must pull every library from
# Debian), starts jobd as the unit would (user jobd, the unit's ExecStart), then boots the root
# under systemd (systemd-nspawn) and checks the unit: READY, STATUS, the watchdog (it pings; a
# stuck jobd is killed and restarted), STOPPING, systemd-analyze security, a job submitted through
# the installed spark-poller to the Spark simulator. packaging/README.md gives the figures.
#
# NOT run by CI (nor by ctest): it needs Debian's mirrors, root, and 2 to 5 minutes.
#   scripts/deb-check.sh [ROOT]   (ROOT: default /var/tmp/deb12, made afresh; left for a look)
# Needs on this machine: mmdebstrap, and systemd-nspawn (systemd-container) for the systemd part,
# which is skipped, saying why, when the container cannot boot. Touches nothing of the host but
# ROOT and the build folder build-deb. Every wait is bounded (DEADLINE seconds). Exits non-zero,
# saying what failed, on the first failure.
set -euo pipefail
source=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-/var/tmp/deb12}
build=$source/build-deb
DEADLINE=${DEADLINE:-60}
mirror=http://deb.debian.org/debian
log=$(mktemp -d /tmp/jobd-deb-check.XXXXXX)
jobd_pid="" nspawn_pid="" sim_pid="" leader=""

fail() {
    echo "deb-check: FAIL: $*" >&2
    exit 1
}
step() { echo "deb-check: [$((SECONDS))s] $*"; }
# True when the text holds a line matching the grep pattern (the text read whole first).
has() { grep -q -- "$1" <<<"$2"; }
# Runs "$@" until it succeeds, up to DEADLINE seconds. Returns its status.
until_ok() {
    local end=$((SECONDS + DEADLINE))
    until "$@"; do
        [ $SECONDS -lt $end ] || return 1
        sleep 0.2
    done
}
in_root() { chroot "$root" "$@"; }
# A command inside the booted container (all its namespaces).
in_box() { nsenter -t "$leader" -a "$@"; }
# Leaves nothing running nor mounted; the script's own status stays its exit status.
cleanup() {
    local status=$?
    set +e
    [ -n "$jobd_pid" ] && kill -KILL "$jobd_pid" 2>/dev/null
    [ -n "$sim_pid" ] && kill -TERM "$sim_pid" 2>/dev/null
    if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
        kill -TERM "$nspawn_pid" # nspawn asks the container's systemd to power off
        for _ in $(seq 150); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$nspawn_pid" 2>/dev/null
    fi
    mountpoint -q "$root/proc" 2>/dev/null && umount "$root/proc"
    echo "deb-check: logs in $log; the root stays in $root"
    exit "$status"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || fail "run as root (mmdebstrap --mode=root, chroot, systemd-nspawn)"
command -v mmdebstrap >/dev/null || fail "no mmdebstrap: apt-get install mmdebstrap"
case $root in
/var/tmp/?* | /srv/?* | /mnt/?*) ;;
*) fail "ROOT $root: give a folder under /var/tmp, /srv or /mnt" ;;
esac

step "build the .deb (build-deb, prefix /usr)"
start=$SECONDS
cmake -S "$source" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
    >"$log/cmake.log" 2>&1 || fail "cmake: see $log/cmake.log"
nice -n 10 cmake --build "$build" -j2 >"$log/build.log" 2>&1 || fail "build: see $log/build.log"
rm -f "$build"/jobd*.deb "$build"/jobd*.ddeb
(cd "$build" && cpack -G DEB >"$log/cpack.log" 2>&1) || fail "cpack: see $log/cpack.log"
deb=$(ls "$build"/jobd_*_amd64.deb)
build_s=$((SECONDS - start))

step "a minimal Debian 12 in $root (mmdebstrap, variant minbase)"
start=$SECONDS
mountpoint -q "$root/proc" 2>/dev/null && umount "$root/proc"
rm -rf "$root"
mmdebstrap --mode=root --variant=minbase bookworm "$root" "deb $mirror bookworm main" \
    "deb $mirror bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" \
    >"$log/mmdebstrap.log" 2>&1 || fail "mmdebstrap: $(tail -5 "$log/mmdebstrap.log")"
root_s=$((SECONDS - start)) root_mb=$(du -sm "$root" | cut -f1)
mount -t proc proc "$root/proc"

step "apt-get install ./$(basename "$deb") in the root (no systemd running there)"
start=$SECONDS
cp "$deb" "$root/root/"
in_root sh -c "apt-get update -qq && cd /root && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y ./$(basename "$deb")" >"$log/install.log" 2>&1 ||
    fail "apt-get install: $(tail -15 "$log/install.log")"
install_s=$((SECONDS - start))
pulled=$(grep -c '^Setting up ' "$log/install.log")
postinst=$(sed -n '/^Setting up jobd /,/^Processing triggers/p' "$log/install.log")
grep -qi 'warning\|error' <<<"$postinst" && fail "postinst warns: $postinst"
in_root getent passwd jobd >/dev/null || fail "postinst made no user jobd"
[ "$(in_root stat -c '%U:%G %a' /var/lib/jobd)" = "jobd:jobd 700" ] ||
    fail "/var/lib/jobd is not jobd:jobd 0700: $(in_root stat -c '%U:%G %a' /var/lib/jobd)"
# Every library the binaries and plugins need came with the Depends.
missing=$(in_root sh -c 'ldd /usr/bin/jobd /usr/bin/jobctl /usr/lib/jobd/plugins/*.so' |
    grep 'not found' || true)
[ -z "$missing" ] || fail "libraries the Depends did not pull: $missing"
in_root jobd --check -c /etc/jobd/jobd.conf >"$log/check.log" 2>&1 ||
    fail "jobd --check on the installed config: $(cat "$log/check.log")"
# shellcheck disable=SC2016 # dpkg-query's own ${field}
installed_kb=$(in_root dpkg-query -W -f='${Installed-Size}' jobd)

step "jobd started as the unit would: user jobd, its folders, its ExecStart"
unit=$(in_root cat /usr/lib/systemd/system/jobd.service)
exec_start=$(sed -n 's/^ExecStart=//p' <<<"$unit")
[ "$(sed -n 's/^User=//p' <<<"$unit")" = jobd ] || fail "the unit does not run as jobd"
# RuntimeDirectory=jobd (0700): systemd makes it at each start; by hand here.
in_root install -d -o jobd -g jobd -m 0700 /run/jobd
# shellcheck disable=SC2086 # ExecStart is words
chroot "$root" setpriv --reuid jobd --regid jobd --init-groups --no-new-privs \
    env -i PATH=/usr/bin:/bin HOME=/var/lib/jobd \
    sh -c "cd /var/lib/jobd && umask 0077 && exec $exec_start" \
    >"$log/jobd-chroot.log" 2>&1 &
jobd_pid=$!
healthy() { in_root jobctl health >/dev/null 2>&1; }
until_ok healthy ||
    fail "jobctl health never exited 0: $(in_root jobctl health 2>&1; cat "$log/jobd-chroot.log")"
[ "$(in_root stat -c %U "/proc/$jobd_pid")" = jobd ] || fail "jobd does not run as the user jobd"
id=$(in_root jobctl track app-1 --kind spark --backend cluster) || fail "jobctl track"
for state in RUNNING SUCCEEDED; do
    in_root jobctl observe "$id" $state >/dev/null || fail "jobctl observe $id $state"
done
has "^$id *SUCCEEDED" "$(in_root jobctl ls)" || fail "jobctl ls does not show $id SUCCEEDED"
kill -TERM "$jobd_pid"
status=0
wait "$jobd_pid" || status=$?
jobd_pid=""
[ "$status" -eq 0 ] || fail "jobd exited $status on SIGTERM: $(tail -5 "$log/jobd-chroot.log")"
has 'stopped cleanly' "$(cat "$log/jobd-chroot.log")" || fail "jobd did not say it stopped cleanly"
rm -rf "$root/run/jobd"

systemd_result="not tried"
# The systemd half: sets systemd_result, "skipped: why" when this machine cannot boot the root.
check_systemd() {
    if ! command -v systemd-nspawn >/dev/null; then
        systemd_result="skipped: no systemd-nspawn (apt-get install systemd-container)"
        return
    fi
    step "systemd in the root (systemd, systemd-sysv, dbus), then booted with systemd-nspawn"
    in_root sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd systemd-sysv dbus' \
        >"$log/systemd-install.log" 2>&1 ||
        fail "apt-get install systemd: $(tail -5 "$log/systemd-install.log")"
    umount "$root/proc"
    # --register=no --keep-unit: no machined nor scope on a host whose PID 1 is not systemd.
    systemd-nspawn -D "$root" --boot --register=no --keep-unit --console=passive \
        >"$log/nspawn.log" 2>&1 &
    nspawn_pid=$!
    booted() {
        kill -0 "$nspawn_pid" 2>/dev/null || return 2
        leader=$(pgrep -P "$nspawn_pid" -x systemd || true)
        [ -n "$leader" ] && has 'running\|degraded' "$(in_box systemctl is-system-running 2>&1)"
    }
    start=$SECONDS
    if ! until_ok booted; then
        systemd_result="skipped: systemd-nspawn could not boot the root: $(tail -3 "$log/nspawn.log")"
        return
    fi
    boot_s=$((SECONDS - start))
    step "booted in ${boot_s}s; the package installed again there (postinst under systemd)"
    in_box sh -c 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq jobd && userdel jobd &&
        rm -rf /var/lib/jobd && cd /root && DEBIAN_FRONTEND=noninteractive apt-get install -y \
        ./jobd_*.deb' >"$log/install-systemd.log" 2>&1 ||
        fail "apt-get install under systemd: $(tail -10 "$log/install-systemd.log")"
    has 'jobd job tracker' "$(in_box getent passwd jobd)" || fail "systemd-sysusers made no user jobd"
    [ "$(in_box systemctl is-enabled jobd)" = enabled ] || fail "postinst did not enable jobd.service"
    active() { [ "$(in_box systemctl is-active jobd)" = active ]; }
    until_ok active || fail "jobd.service is not active: $(in_box systemctl status jobd --no-pager)"
    in_box systemctl status jobd --no-pager >"$log/status.txt" 2>&1 || true
    show() { in_box systemctl show jobd -p "$1" --value; }
    [ "$(show Type)" = notify ] || fail "the unit is not Type=notify"
    has '^running: ' "$(show StatusText)" || fail "no STATUS=running: $(show StatusText)"
    in_box jobctl health >/dev/null || fail "jobctl health under systemd: $(in_box jobctl health 2>&1)"

    step "READY=1 and STOPPING=1 (systemd's debug log), stop and start"
    in_box systemd-analyze log-level debug
    in_box systemctl restart jobd
    in_box systemctl stop jobd
    in_box systemd-analyze log-level info
    in_box journalctl --no-pager -o cat >"$log/journal-notify.txt"
    has 'notification message .*READY=1' "$(cat "$log/journal-notify.txt")" || fail "no READY=1 seen"
    has 'notification message .*STOPPING=1' "$(cat "$log/journal-notify.txt")" || fail "no STOPPING=1 seen"
    [ "$(show Result) $(show ExecMainStatus)" = "success 0" ] ||
        fail "systemctl stop: result $(show Result), status $(show ExecMainStatus)"
    # journald priorities: jobd's warn lines are priority 4.
    in_box systemctl start jobd
    in_box jobctl submit - <<<'{"kind": "nothing-takes-this"}' >/dev/null 2>&1 || true
    warned() { has '"PRIORITY":"4"' "$(in_box journalctl -u jobd -o json --no-pager)"; }
    until_ok warned || fail "jobd's warning did not reach the journal at priority 4 (warning)"

    step "the watchdog: pings, then a stopped jobd killed and restarted (WatchdogSec=4s drop-in)"
    in_box sh -c 'mkdir -p /run/systemd/system/jobd.service.d &&
        printf "[Service]\nWatchdogSec=4s\n" >/run/systemd/system/jobd.service.d/watchdog.conf &&
        systemctl daemon-reload && systemctl restart jobd'
    first=$(show WatchdogTimestampMonotonic)
    pinged() { [ "$(show WatchdogTimestampMonotonic)" != "$first" ]; }
    until_ok pinged || fail "jobd never pinged the watchdog"
    # shellcheck disable=SC2016 # expanded in the container
    in_box sh -c 'kill -STOP "$(systemctl show jobd -p MainPID --value)"'
    restarted() { [ "$(show NRestarts)" -ge 1 ] && active; }
    until_ok restarted || fail "a stopped jobd was not restarted by the watchdog"
    has "Watchdog timeout" "$(in_box journalctl -u jobd --no-pager)" || fail "no watchdog timeout"
    in_box sh -c 'rm -r /run/systemd/system/jobd.service.d && systemctl daemon-reload'

    step "a job through the installed spark-poller to the Spark simulator (Livy)"
    rm -f "$log/sim.port"
    "$build/bin/spark-sim" --port 0 --port-file "$log/sim.port" \
        --scenario "queue=200,run=800,outcome=success" >"$log/sim.log" 2>&1 &
    sim_pid=$!
    until_ok test -s "$log/sim.port" || fail "spark-sim did not start"
    port=$(cat "$log/sim.port")
    cp "$source/plugins/spark-poller/examples/livy.json" "$root/root/livy.json"
    in_box sh -c "cp /etc/jobd/jobd.conf /root/jobd.conf.shipped && sed -i \
        -e 's|^    #   spark-poller|    spark-poller|' -e 's|^    #       backend|        backend|' \
        -e 's|^    #           cluster|            livy|' \
        -e 's|^    #               type = livy|                type = livy|' \
        -e 's|^    #               url = http://livy.example:8998|                url = http://127.0.0.1:$port|' \
        /etc/jobd/jobd.conf &&
        systemctl restart jobd"
    until_ok active || fail "jobd with spark-poller did not start"
    spark_health() { in_box jobctl health >/dev/null 2>&1; }
    until_ok spark_health || fail "jobctl health with spark-poller: $(in_box jobctl health 2>&1)"
    id=$(in_box jobctl submit /root/livy.json) || fail "jobctl submit livy.json"
    succeeded() { has "^$id *SUCCEEDED" "$(in_box jobctl ls)"; }
    until_ok succeeded || fail "$id did not succeed: $(in_box jobctl show "$id")"
    in_box sh -c 'cp /root/jobd.conf.shipped /etc/jobd/jobd.conf && systemctl restart jobd'
    kill -TERM "$sim_pid"
    sim_pid=""

    step "systemd-analyze verify and security"
    out=$(in_box systemd-analyze verify --man=no jobd.service 2>&1) || fail "systemd-analyze verify: $out"
    in_box systemd-analyze security jobd --no-pager >"$log/security.txt" 2>&1 || true
    exposure=$(sed -n 's/.*Overall exposure level for jobd.service: \([0-9.]*\).*/\1/p' "$log/security.txt")
    in_box systemctl stop jobd
    systemd_result="ok: READY, STATUS, watchdog (pings; stopped jobd restarted), STOPPING, journald \
priority 4, a Livy job SUCCEEDED, exposure $exposure"
}
check_systemd

step "done"
cat <<EOF
deb-check: figures
  .deb: jobd $(stat -c %s "$deb") bytes, jobd-dev $(stat -c %s "$build"/jobd-dev_*_amd64.deb), \
jobd-dbgsym $(stat -c %s "$build"/jobd-dbgsym_*_amd64.ddeb); jobd installed ${installed_kb} KiB
  Depends: $(dpkg-deb -f "$deb" Depends)
  build + cpack ${build_s}s; minbase root ${root_s}s (${root_mb} MB); \
apt-get install ${install_s}s (${pulled} packages set up)
  chroot: postinst (user, /var/lib/jobd), no missing library, jobd as jobd, health 0, track/observe, SIGTERM clean
  systemd: $systemd_result
EOF
