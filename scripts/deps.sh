#!/usr/bin/env bash
# Installs jobd's build and test dependencies (Debian 12 packages), only those missing.
# prometheus: the http plugin's tests (promtool check metrics, a real scrape). chromium: the
# dashboard's real-browser test (tests/browser), driven from node by playwright-core, which npm
# installs there from the committed package-lock.json (npm ci) when node_modules is missing or
# older than the lock. Nothing is downloaded at build time.
# libsystemd-dev: sd_notify (core/jobd_notify.c); systemd, dpkg-dev, man-db: the install test's
# systemd-analyze verify, cpack's dpkg-shlibdeps, the man pages rendered (tests/install/).
# libsmartcols-dev (util-linux): jobctl lays out its tables to the terminal's width with it.
set -euo pipefail
packages=(gcc make cmake pkg-config clang clang-format libclang-rt-14-dev
          libzmq3-dev libczmq-dev libmsgpack-dev liblmdb-dev librdkafka-dev
          libcurl4-openssl-dev libjansson-dev libmicrohttpd-dev libcmocka-dev kcat libssl-dev
          prometheus prometheus-alertmanager python3-aiosmtpd chromium
          libsystemd-dev systemd dpkg-dev man-db libsmartcols-dev)
# node and npm: Debian's unless a node is installed already (a newer one, from elsewhere, is fine:
# playwright-core needs node 18 or later).
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
# prometheus-alertmanager and python3-aiosmtpd are the notifier's real receivers in tests
# (tests/receivers/): Prometheus Alertmanager and an SMTP server. A test skips only when its
# receiver's binary is absent, and CI (.ci/run -> scripts/test.sh) runs this script first, so CI
# never skips.
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}" >&2
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The browser test's packages: npm ci (exactly the lock's versions) when node_modules is missing
# or older than package-lock.json.
browser="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
if [ ! -d "$browser/node_modules" ] || [ "$browser/package-lock.json" -nt "$browser/node_modules" ]; then
    echo "deps: npm ci in tests/browser" >&2
    (cd "$browser" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    touch "$browser/node_modules"
fi
