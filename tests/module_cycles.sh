#!/bin/sh
# No two source files of one module call each other (STYLE.md: "a module's files do not call back
# into each other ... so the module reads as a small tree"). A module is a source folder (proto/,
# store/, core/, plugins/spark-poller/, tools/jobctl/ ...). For every object file CMake built in
# BUILD_DIR, nm tells which global symbols it defines and which it needs; a file needing a symbol
# that another file of its folder defines calls that file. Each set of files that call one another
# round (two files calling each other, or a longer loop) is a cycle, named with the calls that make
# it. Cycles listed in KNOWN_FILE ("folder: file file ...", known and still to fix) are allowed.
build=${1:?usage: module_cycles.sh BUILD_DIR [KNOWN_FILE]}
known=${2:-/dev/null}
[ -d "$build" ] || { echo "no build folder $build"; exit 1; }
[ -r "$known" ] || { echo "cannot read $known"; exit 1; }
list=$(mktemp)
symbols=$(mktemp)
trap 'rm -f "$list" "$symbols"' EXIT

# Object paths read BUILD/<folder>/CMakeFiles/<target>.dir/<source>.o, with ".." spelled "__":
# each object is mapped to its source, one object per source (a file built into two targets is
# the same code). CMake's own probes (BUILD/CMakeFiles) are no module's, and where the target's
# link line is known (link.txt), an object it does not name is left over from a removed source.
find "$build" -path '*/CMakeFiles/*.dir/*' -name '*.o' ! -path "$build/CMakeFiles/*" | sort |
    while read -r object; do
        target=${object%%.dir/*}.dir
        name=$(basename "$target")/${object#"$target"/}
        [ -f "$target/link.txt" ] && ! grep -qF "$name" "$target/link.txt" && continue
        printf '%s\n' "$object"
    done |
    awk -v build="$build/" '{
        path = substr ($0, length (build) + 1)
        folder = path; sub (/\/?CMakeFiles\/.*/, "", folder)
        source = path; sub (/^.*CMakeFiles\/[^\/]*\.dir\//, "", source); sub (/\.o$/, "", source)
        if (folder != "")
            source = folder "/" source
        n = split (source, part, "/"); m = 0
        for (i = 1; i <= n; i++)
            if (part[i] == "__" && m > 0) m--
            else keep[++m] = part[i]
        source = keep[1]
        for (i = 2; i <= m; i++) source = source "/" keep[i]
        if (!(source in seen)) { seen[source] = 1; print $0 "\t" source }
    }' >"$list"
[ -s "$list" ] || { echo "no object files under $build: build first"; exit 1; }

# "object: symbol type ..." for every global symbol defined (T, D, B, R, W ...) or needed (U).
cut -f1 "$list" | xargs nm -P -A 2>/dev/null | awk '$3 ~ /^[A-Z]$/' >"$symbols"

awk -F'\t' -v known_file="$known" '
    FILENAME == ARGV[1] {
        source[$1] = $2
        folder = $2; sub (/\/[^\/]*$/, "", folder)
        if (folder == $2) folder = "."
        module[$2] = folder
        next
    }
    {
        #  nm -P -A: "object: symbol type value size"
        split ($0, field, " ")
        object = field[1]; sub (/:$/, "", object)
        file = source[object]
        if (file == "") next
        symbol = field[2]
        if (field[3] == "U")
            need[file, symbol] = 1
        else {
            key = module[file] SUBSEP symbol
            definers[key]++
            definer[key] = file
        }
    }
    END {
        while ((getline line < known_file) > 0) {
            sub (/#.*/, "", line)
            if (line !~ /:/) continue
            folder = line; sub (/:.*/, "", folder); gsub (/ /, "", folder)
            rest = line; sub (/^[^:]*:/, "", rest)
            n = split (rest, names, " ")
            allowed_count++
            allowed_folder[allowed_count] = folder
            for (i = 1; i <= n; i++) allowed[allowed_count, names[i]] = 1
            allowed_line[allowed_count] = line
        }
        #  Calls between files of one folder; a symbol defined by two files there (a main, a
        #  test double) names no one file.
        for (pair in need) {
            split (pair, p, SUBSEP)
            file = p[1]; symbol = p[2]
            key = module[file] SUBSEP symbol
            if (definers[key] != 1 || definer[key] == file) continue
            callee = definer[key]
            if (!((file, callee) in calls)) {
                calls[file, callee] = symbol
                folder = module[file]
                if (!((folder, file) in member)) { member[folder, file] = 1; files[folder] = files[folder] " " file }
                if (!((folder, callee) in member)) { member[folder, callee] = 1; files[folder] = files[folder] " " callee }
            }
        }
        status = 0; checked = 0; folders_seen = ""
        for (folder in files) {
            n = split (files[folder], f, " ")
            checked++; folders_seen = folders_seen " " folder "(" n ")"
            #  Which file reaches which (n is a few dozen at most: a transitive closure will do).
            delete reach
            for (i = 1; i <= n; i++)
                for (j = 1; j <= n; j++)
                    if ((f[i], f[j]) in calls) reach[i, j] = 1
            for (k = 1; k <= n; k++)
                for (i = 1; i <= n; i++)
                    if ((i, k) in reach)
                        for (j = 1; j <= n; j++)
                            if ((k, j) in reach) reach[i, j] = 1
            delete done
            for (i = 1; i <= n; i++) {
                if ((i in done) || !((i, i) in reach)) continue
                #  The cycle of f[i]: every file it reaches that reaches it back.
                cycle = ""; size = 0; delete in_cycle
                for (j = 1; j <= n; j++)
                    if (j == i || (((i, j) in reach) && ((j, i) in reach))) {
                        done[j] = 1; in_cycle[j] = 1; size++
                        cycle = cycle " " f[j]
                    }
                ok = 0
                for (a = 1; a <= allowed_count && !ok; a++) {
                    if (allowed_folder[a] != folder) continue
                    ok = 1
                    for (j in in_cycle)
                        if (!((a, f[j]) in allowed)) ok = 0
                    if (ok) used[a] = 1
                }
                print (ok ? "known cycle (to fix)" : "CYCLE") " in " folder "/:" cycle
                for (j in in_cycle)
                    for (k in in_cycle)
                        if ((f[j], f[k]) in calls)
                            print "    " f[j] " calls " f[k] " (" calls[f[j], f[k]] ")"
                if (!ok) status = 1
            }
        }
        for (a = 1; a <= allowed_count; a++)
            if (!(a in used))
                print "note: no longer a cycle, remove it from the known list: " allowed_line[a]
        if (status)
            print "files of one folder call each other: move what both need into a file of its own (see store/jobd_store_internal.h)"
        else
            print checked " folders with calls between their files (files in such calls):" folders_seen "\nno cycles but the known ones"
        exit status
    }' "$list" "$symbols"
