#!/usr/bin/env bash
# Installs jobd's build and test dependencies (Debian 12 packages), only those missing.
# prometheus: the http plugin's tests (promtool check metrics, a real scrape).
# libsmartcols-dev (util-linux): jobctl lays out its tables to the terminal's width with it.
set -euo pipefail
packages=(gcc make cmake pkg-config clang clang-format libclang-rt-14-dev
          libzmq3-dev libczmq-dev libmsgpack-dev liblmdb-dev librdkafka-dev
          libcurl4-openssl-dev libjansson-dev libmicrohttpd-dev libcmocka-dev kcat libssl-dev
          libsmartcols-dev
          prometheus prometheus-alertmanager python3-aiosmtpd)
# The last two are the notifier's real receivers in tests (tests/receivers/): Prometheus
# Alertmanager and an SMTP server. A test skips only when its receiver's binary is absent, and CI
# (.ci/run -> scripts/test.sh) runs this script first, so CI never skips.
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
