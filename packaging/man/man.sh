#!/usr/bin/env bash
# Writes a man page from its template: @HELP@ becomes the program's --help (verbatim), @KEYS@
# every config key of jobd --describe-config --markdown (the config maps: the one source of
# truth), @VERSION@ the version. The pages stay true to the binaries they are built with.
#   man.sh TEMPLATE OUT VERSION PROGRAM [--keys JOBD]
set -euo pipefail
template=$1 out=$2 version=$3 program=$4
keys_from=""
[ "${5:-}" = "--keys" ] && keys_from=$6
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# roff: a backslash is \e, a line starting with . or ' is protected by \&.
roff_escape() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }

if grep -q '@HELP@' "$template"; then
    "$program" --help >"$work/help.txt"
    { echo ".nf"; roff_escape <"$work/help.txt"; echo ".fi"; } >"$work/help.roff"
else
    : >"$work/help.roff"
fi
if grep -q '@KEYS@' "$template"; then
    # The demo plugin (a pretend backend of the build tree) is not installed.
    "$keys_from" --describe-config --markdown >"$work/keys.md"
    awk '
        function esc(s) { gsub(/\\\|/, "|", s); gsub(/\\/, "\\e", s); gsub(/`/, "", s); return s }
        /^<!-- jobd:config / { section = $3; skip = (section == "plugins/demo"); if (!skip) printf ".SS %s\n", section; next }
        skip || !/^\| `/ { next }
        {
            line = substr($0, 3, length($0) - 4)
            n = split(line, f, / \| /)
            meaning = f[4]
            for (i = 5; i <= n; i++) meaning = meaning " | " f[i]
            printf ".TP\n.B %s\n(%s, default %s) %s\n", esc(f[1]), esc(f[2]), esc(f[3]), esc(meaning)
        }' "$work/keys.md" >"$work/keys.roff"
else
    : >"$work/keys.roff"
fi
sed -e "/@HELP@/{r $work/help.roff" -e 'd}' -e "/@KEYS@/{r $work/keys.roff" -e 'd}' \
    -e "s/@VERSION@/$version/g" "$template" >"$out.tmp"
mv "$out.tmp" "$out"
