#!/usr/bin/env bash
# What `cmake --install` gives an operator and a plugin author, run from a staging prefix: the
# installed jobd and jobctl, the man pages, the example config (started as shipped), an
# out-of-tree plugin built with `pkg-config jobd-plugin` and loaded by the installed jobd, the
# systemd unit (systemd-analyze verify, when there), and the Debian packages (cpack, dpkg-deb).
#   install.sh BUILD_DIR SOURCE_DIR [EXTRA_CFLAGS]   (EXTRA_CFLAGS: the sanitizer build's)
# Every wait is bounded (DEADLINE seconds). Exits non-zero, saying what failed, on the first
# failure.
set -euo pipefail
build=$(cd "$1" && pwd) source=$(cd "$2" && pwd) extra_cflags=${3:-}
DEADLINE=${DEADLINE:-30}
tmp=$(mktemp -d /tmp/jobd-install.XXXXXX)
chmod 755 "$tmp" # trusted folders: others may not write (jobd refuses what they could change)
prefix=$tmp/prefix jobd_pid=""
# The build's LIBDIR (GNUInstallDirs): lib, or lib/x86_64-linux-gnu in a build configured for the
# prefix /usr (as the Debian package is). Plugins are in lib/jobd/plugins under either.
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$build/CMakeCache.txt")
libdir=${libdir:-lib}
cleanup() {
    [ -n "$jobd_pid" ] && kill -KILL "$jobd_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "install: FAIL: $*" >&2
    [ -f "$tmp/jobd.log" ] && sed 's/^/  jobd.log: /' "$tmp/jobd.log" >&2
    exit 1
}
step() { echo "install: $*"; }
# True when the text holds a line matching the grep pattern. Commands' output is read whole first:
# `cmd | grep -q` would close the pipe at the first match, and cmd's EPIPE fail the pipeline.
has() { grep -q -- "$1" <<<"$2"; }
# Runs "$@" until it succeeds, up to DEADLINE seconds. Returns its status.
until_ok() {
    local end=$((SECONDS + DEADLINE))
    until "$@"; do
        [ $SECONDS -lt $end ] || return 1
        sleep 0.1
    done
}

step "cmake --install into $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || fail "cmake --install (see above)"
for file in bin/jobd bin/jobctl lib/jobd/plugins/http.so lib/jobd/plugins/retry.so \
    include/jobd/jobd_plugin.h include/jobd/jobd_plugin_sdk.h "$libdir/jobd/libjobd_sdk.a" \
    "$libdir/pkgconfig/jobd-plugin.pc" share/man/man8/jobd.8.gz share/man/man1/jobctl.1.gz \
    share/man/man5/jobd.conf.5.gz etc/jobd/jobd.conf lib/systemd/system/jobd.service \
    lib/sysusers.d/jobd.conf; do
    [ -e "$prefix/$file" ] || fail "not installed: $file"
done
[ -e "$prefix/lib/jobd/plugins/demo.so" ] && fail "the demo plugin (a pretend backend) is installed"

step "the installed binaries answer"
has '^jobd [0-9]' "$("$prefix/bin/jobd" --version)" || fail "jobd --version"
has '--config' "$("$prefix/bin/jobd" --help)" || fail "jobd --help"
"$prefix/bin/jobctl" --help >/dev/null 2>&1 || fail "jobctl --help"
# The default plugin folder of an installed jobd is its own LIBDIR/jobd/plugins.
has "\"plugin_dir\": \"$prefix/lib/jobd/plugins\"" \
    "$("$prefix/bin/jobd" --describe-config --json 2>/dev/null)" ||
    fail "installed jobd's default plugin_dir is not $prefix/lib/jobd/plugins"

step "man pages: render without warnings, hold the config keys"
for page in man8/jobd.8.gz man1/jobctl.1.gz man5/jobd.conf.5.gz; do
    warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$prefix/share/man/$page" 2>&1 \
        >"$tmp/page.txt") || fail "man $page"
    [ -z "$warnings" ] || fail "man $page: $warnings"
    [ -s "$tmp/page.txt" ] || fail "man $page is empty"
done
page=$(MANWIDTH=200 man -l "$prefix/share/man/man5/jobd.conf.5.gz" 2>/dev/null)
has 'map_size' "$page" || fail "jobd.conf(5) lacks core/map_size"
has 'plugins/http' "$page" ||
    fail "jobd.conf(5) lacks the http plugin's keys"

step "an out-of-tree plugin built with pkg-config jobd-plugin"
export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
plugindir=$(pkg-config --variable=plugindir jobd-plugin)
[ "$(cd "$plugindir" && pwd -P)" = "$(cd "$prefix/lib/jobd/plugins" && pwd -P)" ] ||
    fail "pkg-config plugindir $plugindir is not the installed plugin folder"
# shellcheck disable=SC2046,SC2086
cc -shared -fPIC -fvisibility=hidden -Wall -Werror $extra_cflags \
    $(pkg-config --cflags jobd-plugin) "$source/tests/install/hello.c" \
    $(pkg-config --libs jobd-plugin) -Wl,--exclude-libs,ALL -o "$plugindir/hello.so" ||
    fail "building tests/install/hello.c against the installed SDK"
exported=$(nm -D --defined-only "$plugindir/hello.so" | awk '$2 ~ /[A-Z]/ && $3 != "" {print $3}' |
    grep -v '^_' || true)
[ "$exported" = "jobd_plugin" ] || fail "hello.so exports more than jobd_plugin: $exported"

step "the installed jobd on the installed example config, with the plugin added"
mkdir -m 700 "$tmp/etc"
config=$tmp/etc/jobd.conf
{
    cat "$prefix/etc/jobd/jobd.conf"
    printf '    hello\n        greeting = bonjour\n'
} >"$config"
chmod 644 "$config"
run_dir=$tmp/run
export JOBD_CORE_STORE=$tmp/store JOBD_CORE_RUN_DIR=$run_dir JOBD_PLUGINS_HTTP_PORT=0
"$prefix/bin/jobd" --check -c "$config" >"$tmp/check.log" 2>&1 ||
    fail "jobd --check on the example config: $(cat "$tmp/check.log")"
"$prefix/bin/jobd" -c "$config" 2>"$tmp/jobd.log" &
jobd_pid=$!
plugin_says_bonjour() {
    has 'bonjour from out of tree' "$("$prefix/bin/jobctl" --run-dir "$run_dir" plugins 2>/dev/null)"
}
until_ok plugin_says_bonjour || fail "jobctl plugins never showed the hello plugin running"
grep -q "loaded plugin hello 0.0.1 from .*lib/jobd/plugins/hello.so" "$tmp/jobd.log" ||
    fail "jobd's log does not say it loaded hello from the installed plugin folder"
plugins=$("$prefix/bin/jobctl" --run-dir "$run_dir" plugins 2>/dev/null)
for plugin in retry http; do
    has "$plugin .*running" "$plugins" || fail "the example config's $plugin plugin is not running"
done
# A probe on the service as shipped: healthy (a plugin named but disabled would make it exit 1).
health=$("$prefix/bin/jobctl" --run-dir "$run_dir" health 2>&1) ||
    fail "jobctl health on the example config: $health"
kill -TERM "$jobd_pid"
stopped() { ! kill -0 "$jobd_pid" 2>/dev/null; }
until_ok stopped || fail "jobd did not stop on SIGTERM"
status=0
wait "$jobd_pid" || status=$?
jobd_pid=""
[ "$status" -eq 0 ] || fail "jobd exited $status on SIGTERM"

step "the example config's commented plugins, uncommented, pass jobd --check"
sed -e 's/^    #   \([a-z]\)/    \1/' -e 's/^    #       /        /' "$prefix/etc/jobd/jobd.conf" \
    >"$tmp/etc/all.conf"
chmod 644 "$tmp/etc/all.conf"
for plugin in spark-poller kafka-listener notifier; do
    grep -q "^    $plugin\$" "$tmp/etc/all.conf" || fail "the example config has no $plugin to uncomment"
done
"$prefix/bin/jobd" --check -c "$tmp/etc/all.conf" >"$tmp/check.log" 2>&1 ||
    fail "jobd --check on the example config uncommented: $(cat "$tmp/check.log")"

unit=$prefix/lib/systemd/system/jobd.service
grep -q "^ExecStart=$prefix/bin/jobd -c $prefix/etc/jobd/jobd.conf$" "$unit" ||
    fail "the unit's ExecStart is not the installed jobd and config: $(grep ExecStart "$unit")"
if command -v systemd-analyze >/dev/null; then
    step "systemd-analyze verify $unit"
    # The unit names man pages and a user this machine need not have: only the unit is judged.
    out=$(systemd-analyze verify --man=no "$unit" 2>&1) || fail "systemd-analyze verify: $out"
    [ -z "$out" ] || fail "systemd-analyze verify warns: $out"
    # The hardening holds: exposure 1.4 of 10 now; more than 2.0 fails (a dropped option).
    out=$(systemd-analyze security --offline=yes --threshold=20 "$unit" 2>&1) ||
        fail "the unit's exposure is above 2.0 (systemd-analyze security): $(tail -1 <<<"$out")"
else
    step "SKIP systemd-analyze verify (no systemd-analyze)"
fi

if [ -n "$extra_cflags" ]; then
    step "SKIP the Debian packages (a sanitizer build is not packaged)"
elif command -v dpkg-deb >/dev/null && command -v dpkg-shlibdeps >/dev/null; then
    step "cpack -G DEB, then dpkg-deb checks"
    (cd "$build" && cpack -G DEB -B "$tmp/deb" >"$tmp/cpack.log" 2>&1) ||
        fail "cpack -G DEB: $(tail -20 "$tmp/cpack.log")"
    deb=$(ls "$tmp"/deb/jobd_*.deb) dev=$(ls "$tmp"/deb/jobd-dev_*.deb)
    info=$(dpkg-deb -I "$deb")
    depends=$(dpkg-deb -f "$deb" Depends)
    for library in libczmq4 libzmq5 liblmdb0 librdkafka1 libcurl4 libjansson4 libmicrohttpd12 \
        libsystemd0 libmsgpackc2; do
        has "$library" "$depends" || fail "jobd's Depends lacks $library: $depends"
    done
    has 'libasan' "$depends" && fail "jobd's Depends names a sanitizer: $depends"
    # postinst makes the user with adduser where systemd-sysusers is not there (a minimal Debian).
    has '\badduser\b' "$depends" || fail "jobd's Depends lacks adduser (postinst runs it): $depends"
    for script in postinst prerm postrm conffiles; do
        has " $script" "$info" || fail "jobd.deb has no $script"
    done
    has '^/etc/jobd/jobd.conf$' "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)" ||
        fail "/etc/jobd/jobd.conf is not a conffile"
    contents=$(dpkg-deb -c "$deb")
    for file in ./usr/bin/jobd ./usr/bin/jobctl ./usr/lib/jobd/plugins/http.so \
        ./usr/lib/systemd/system/jobd.service ./usr/lib/sysusers.d/jobd.conf \
        ./etc/jobd/jobd.conf ./usr/share/man/man8/jobd.8.gz; do
        has " $file\$" "$contents" || fail "jobd.deb lacks $file"
    done
    has '^ExecStart=/usr/bin/jobd -c /etc/jobd/jobd.conf$' \
        "$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/systemd/system/jobd.service)" ||
        fail "the packaged unit does not start /usr/bin/jobd -c /etc/jobd/jobd.conf"
    # The packaged jobd, unpacked anywhere, finds and loads its packaged plugins.
    dpkg-deb -x "$deb" "$tmp/unpacked"
    # Stripped, the debug info in jobd-dbgsym (by build id).
    for file in "$tmp"/unpacked/usr/bin/* "$tmp"/unpacked/usr/lib/jobd/plugins/*.so; do
        has '\.debug_info' "$(readelf -S "$file")" && fail "${file#"$tmp"/unpacked} is not stripped"
    done
    dbgsym=$(ls "$tmp"/deb/jobd-dbgsym_*.ddeb 2>/dev/null) || fail "cpack made no jobd-dbgsym"
    has '/usr/lib/debug/.build-id/' "$(dpkg-deb -c "$dbgsym")" || fail "jobd-dbgsym holds no debug info"
    described=$("$tmp/unpacked/usr/bin/jobd" --describe-config --json 2>&1) ||
        fail "the packaged jobd --describe-config: $described"
    has "\"plugin_dir\": \"$tmp/unpacked/usr/lib/jobd/plugins\"" "$described" ||
        fail "the packaged jobd does not default to its packaged plugins"
    for plugin in http kafka-listener notifier retry spark-poller; do
        has "\"plugin\": \"$plugin\"" "$described" || fail "the packaged jobd did not load $plugin"
    done
    for script in postinst prerm postrm; do
        dpkg-deb --ctrl-tarfile "$deb" | tar -xO "./$script" >"$tmp/$script"
        sh -n "$tmp/$script" || fail "jobd.deb's $script is not valid sh"
    done
    has " ./usr/$libdir/pkgconfig/jobd-plugin.pc\$" "$(dpkg-deb -c "$dev")" ||
        fail "jobd-dev.deb lacks jobd-plugin.pc"
    has 'jobd (= ' "$(dpkg-deb -f "$dev" Depends)" || fail "jobd-dev does not depend on jobd"
else
    step "SKIP the Debian packages (no dpkg-deb or dpkg-shlibdeps)"
fi
step "ok"
