#!/bin/sh
# Every plugin in DIR exports exactly one symbol: its descriptor, jobd_plugin (STYLE.md, "The
# plugin ABI"; collectd's rule, enforced at link time by -Wl,--exclude-libs,ALL).
dir=${1:?usage: plugin_exports.sh PLUGIN_DIR}
status=0
found=0
for so in "$dir"/*.so; do
    [ -f "$so" ] || continue
    found=$((found + 1))
    symbols=$(nm -D --defined-only "$so" | awk '{print $3}')
    # AddressSanitizer adds an ODR indicator for each exported global: __odr_asan.jobd_plugin.
    extra=$(printf '%s\n' "$symbols" | grep -vx 'jobd_plugin' | grep -vx '__odr_asan\.jobd_plugin' |
        head -n 10)
    if [ -n "$extra" ]; then
        echo "$so exports more than jobd_plugin, e.g.:"
        printf '  %s\n' $extra
        status=1
    fi
    printf '%s\n' "$symbols" | grep -qx 'jobd_plugin' || { echo "$so does not export jobd_plugin"; status=1; }
done
[ "$found" -gt 0 ] || { echo "no plugins in $dir"; status=1; }
[ "$status" -ne 0 ] || echo "$found plugins, each exporting jobd_plugin only"
exit $status
