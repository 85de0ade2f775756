#!/bin/sh
# tests/module_cycles.sh finds what it should: two files that call each other and a loop of three
# fail, a tree passes, and a known cycle passes. Objects built with the C compiler CC, laid out as
# CMake lays them out.
check=${1:?usage: module_cycles_selftest.sh MODULE_CYCLES_SH [CC]}
cc=${2:-cc}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failed=0
# object FOLDER FILE SOURCE: compiles SOURCE as FILE.c of FOLDER in the fake build tree.
object() {
    mkdir -p "$dir/build/$1/CMakeFiles/t.dir"
    printf '%s\n' "$3" >"$dir/$2.c"
    "$cc" -c -o "$dir/build/$1/CMakeFiles/t.dir/$2.c.o" "$dir/$2.c" || exit 1
}
# expect RC WHAT: runs the check and compares its status.
expect() {
    out=$(sh "$check" "$dir/build" "$dir/known" 2>&1)
    rc=$?
    if [ "$rc" -ne "$1" ]; then
        echo "FAIL: $2: status $rc, expected $1"
        printf '%s\n' "$out"
        failed=1
    else
        echo "ok: $2"
    fi
}
: >"$dir/known"
object tree a 'int b (void); int c (void); int a (void) { return b () + c (); }'
object tree b 'int c (void); int b (void) { return c (); }'
object tree c 'int c (void) { return 1; }'
expect 0 "a tree (a calls b and c, b calls c)"
object pair x 'int y (void); int x (void) { return y (); }'
object pair y 'int x (void); int y (void) { return x () + 1; }'
expect 1 "two files calling each other"
printf 'pair: pair/x.c pair/y.c\n' >"$dir/known"
expect 0 "the same, listed as known"
object loop p 'int q (void); int p (void) { return q (); }'
object loop q 'int r (void); int q (void) { return r (); }'
object loop r 'int p (void); int r (void) { return p () + 1; }'
expect 1 "a loop of three files"
out=$(sh "$check" "$dir/build" "$dir/known" 2>&1)
printf '%s\n' "$out" | grep -q 'loop/p.c calls loop/q.c (q)' || {
    echo "FAIL: the loop's calls are not named"
    failed=1
}
exit $failed
