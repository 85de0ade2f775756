#!/usr/bin/env bash
# The READMEs' config key tables are generated from the config maps (`jobd --describe-config
# --markdown`): each table sits between `<!-- jobd:config SECTION -->` and `<!-- /jobd:config -->`.
#   scripts/config-docs.sh --check [JOBD]   fail, with a diff, when a table differs from the maps,
#                                           or a section described has no table in any README
#   scripts/config-docs.sh --fix [JOBD]     rewrite the tables from the maps
# JOBD is the jobd binary (default build/bin/jobd), run without -c: the embedded default, which
# loads every plugin of its folder (build/plugins). JOBD_CONFIG_DOCS_ROOT: the tree whose READMEs
# are read (default this repository; the test that this check fails sets it to a copy).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-}
jobd=${2:-$here/build/bin/jobd}
root=${JOBD_CONFIG_DOCS_ROOT:-$here}
case "$mode" in
--check | --fix) ;;
*)
    echo "usage: scripts/config-docs.sh --check|--fix [JOBD]" >&2
    exit 2
    ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Only the maps count: no environment override may change the plugin folder or its sections.
env $(env | awk -F= '/^JOBD_/ {printf "-u %s ", $1}') "$jobd" --describe-config --markdown \
    >"$work/tables.md"

# Each README: the lines between a section's markers replaced by that section's table.
status=0
: >"$work/placed"
for readme in "$root"/core/README.md "$root"/plugins/*/README.md; do
    [ -f "$readme" ] || continue
    name=${readme#"$root"/}
    if ! awk -v tables="$work/tables.md" -v placed="$work/placed" -v file="$name" '
        BEGIN {
            while ((getline line < tables) > 0) {
                if (line ~ /^<!-- jobd:config .* -->$/) {
                    section = line
                    sub(/^<!-- jobd:config /, "", section)
                    sub(/ -->$/, "", section)
                    body[section] = ""
                } else if (line == "<!-- /jobd:config -->")
                    section = ""
                else if (section != "")
                    body[section] = body[section] line "\n"
            }
        }
        /^<!-- jobd:config .* -->$/ {
            section = $0
            sub(/^<!-- jobd:config /, "", section)
            sub(/ -->$/, "", section)
            if (!(section in body)) {
                printf "%s:%d: no config section %s (jobd --describe-config)\n", file, NR, section > "/dev/stderr"
                failed = 1
            }
            print
            printf "%s", body[section]
            print section >> placed
            inside = 1
            next
        }
        $0 == "<!-- /jobd:config -->" {
            inside = 0
        }
        !inside {
            print
        }
        END {
            if (inside) {
                printf "%s: a table marker is not closed by <!-- /jobd:config -->\n", file > "/dev/stderr"
                failed = 1
            }
            exit failed
        }' "$readme" >"$work/new.md"; then
        status=1
        continue
    fi
    if ! cmp -s "$readme" "$work/new.md"; then
        if [ "$mode" = --fix ]; then
            cat "$work/new.md" >"$readme"
            echo "rewrote the config tables of $name"
        else
            diff -u --label "$name" --label "$name (from the config maps)" "$readme" \
                "$work/new.md" || true
            status=1
        fi
    fi
done

# Every section described has its table somewhere: a new plugin's keys are documented too.
sed -n 's/^<!-- jobd:config \(.*\) -->$/\1/p' "$work/tables.md" | while read -r section; do
    if ! grep -qxF -- "$section" "$work/placed"; then
        echo "config section $section has no table: add <!-- jobd:config $section --> and" \
            "<!-- /jobd:config --> to its README, then run scripts/config-docs.sh --fix"
        exit 1
    fi
done || status=1

if [ "$status" -ne 0 ] && [ "$mode" = --check ]; then
    echo "config tables differ from the config maps: run scripts/config-docs.sh --fix (the" \
        "maps in the code are the one source of truth: change a key's help there)"
fi
exit $status
