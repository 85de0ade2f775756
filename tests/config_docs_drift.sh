#!/usr/bin/env bash
# scripts/config-docs.sh --check fails when a README's config table is not what the config maps
# say: a key missing (added to a map, not documented), a help text changed, a section without a
# table; and --fix writes them back. Run on a copy of the READMEs, never on the tree itself.
# Usage: config_docs_drift.sh SOURCE_DIR JOBD
set -euo pipefail
source_dir=${1:?usage: config_docs_drift.sh SOURCE_DIR JOBD}
jobd=${2:?usage: config_docs_drift.sh SOURCE_DIR JOBD}
script=$source_dir/scripts/config-docs.sh
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
export JOBD_CONFIG_DOCS_ROOT=$copy

fresh_copy() {
    rm -rf "${copy:?}"/*
    for readme in "$source_dir"/core/README.md "$source_dir"/plugins/*/README.md; do
        mkdir -p "$copy/$(dirname "${readme#"$source_dir"/}")"
        cp "$readme" "$copy/${readme#"$source_dir"/}"
    done
}

# Runs --check on the copy, which must fail and print $1.
expect_failure() {
    local out
    if out=$("$script" --check "$jobd" 2>&1); then
        echo "FAIL: --check passed after: $2"
        exit 1
    fi
    if ! grep -qF -- "$1" <<<"$out"; then
        echo "FAIL: --check failed after $2, without saying '$1':"
        echo "$out"
        exit 1
    fi
    echo "ok: --check fails after $2"
}

fresh_copy
"$script" --check "$jobd" >/dev/null || { echo "FAIL: --check fails on an unchanged copy"; exit 1; }

# A key in the map that the README lacks: the row is missing from the table.
sed -i '/^| `fail_every` |/d' "$copy/plugins/demo/README.md"
expect_failure '+| `fail_every` | int | `3` |' "a row was removed (a key added to a map only)"
"$script" --fix "$jobd" >/dev/null
"$script" --check "$jobd" >/dev/null || { echo "FAIL: --fix did not restore the row"; exit 1; }
grep -q '^| `fail_every` | int | `3` |' "$copy/plugins/demo/README.md" ||
    { echo "FAIL: --fix did not write the row back"; exit 1; }
echo "ok: --fix writes the row back"

# A help text that differs from the map's.
fresh_copy
sed -i 's/^\(| `step` | duration | `1s` |\).*/\1 written by hand |/' "$copy/plugins/demo/README.md"
expect_failure '-| `step` | duration | `1s` | written by hand |' "a help text was changed by hand"

# A section the maps describe with no table anywhere (a new plugin, its README not marked).
fresh_copy
sed -i '/^<!-- jobd:config plugins\/spark-poller -->$/,/^<!-- \/jobd:config -->$/d' \
    "$copy/plugins/spark-poller/README.md"
expect_failure "config section plugins/spark-poller has no table" "a table's markers were removed"

# A marker naming a section that does not exist.
fresh_copy
sed -i 's/^<!-- jobd:config plugins\/demo -->$/<!-- jobd:config plugins\/nosuch -->/' \
    "$copy/plugins/demo/README.md"
expect_failure "no config section plugins/nosuch" "a marker names no section"
echo "config_docs_drift: all passed"
