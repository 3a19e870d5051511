# tests/cli_lib.sh — what the command-line test scripts share. Sourced by
# tests/cli*.sh after they set NAME (for messages and the scratch folder):
#
#     NAME=cli_model
#     . "$(dirname "$0")/cli_lib.sh"
#     run predict "$M"; expect_rc "predict" 0 ...
#     finish
#
# $1 of the script is the tcat binary. Scratch files live in $T, a mktemp
# folder removed at exit. Each expect_* counts a pass or prints "FAIL: ...";
# finish prints "N passed, M failed" and exits 1 when anything failed.

TCAT=${1:?usage: sh tests/$NAME.sh TCAT_BINARY}
case $TCAT in
/*) ;;
*) TCAT=$(pwd)/$TCAT ;;
esac
if [ ! -x "$TCAT" ]; then
    echo "$NAME.sh: '$TCAT' is not an executable" >&2
    exit 2
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/tcat-$NAME.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM
: >"$T/stdin"

passed=0
failed=0

ok() { passed=$((passed + 1)); }
fail() {
    failed=$((failed + 1))
    echo "FAIL: $*"
}

# run ARGS...: runs tcat with stdin from $T/stdin (empty unless a test
# wrote it), stdout to $T/out, stderr to $T/err; the status is in $rc.
run() {
    "$TCAT" "$@" <"$T/stdin" >"$T/out" 2>"$T/err"
    rc=$?
}

# input TEXT: the next run's stdin, written with printf (so \n, \r, \000
# and \377 escapes work).
input() { printf "$1" >"$T/stdin"; }

# expect_rc NAME WANT
expect_rc() {
    if [ "$rc" -eq "$2" ]; then ok; else fail "$1: exit status $rc, expected $2 ($(head -n 1 "$T/err"))"; fi
}

# expect_out NAME TEXT: stdout must be exactly TEXT (printf escapes).
expect_out() {
    printf "$2" >"$T/expected"
    if cmp -s "$T/out" "$T/expected"; then
        ok
    else
        fail "$1: stdout is '$(head -c 300 "$T/out" | tr '\n' '|')', expected '$(head -c 300 "$T/expected" | tr '\n' '|')'"
    fi
}

# expect_err_line NAME TEXT: the first line of stderr must be exactly TEXT.
expect_err_line() {
    first=$(head -n 1 "$T/err")
    if [ "$first" = "$2" ]; then ok; else fail "$1: stderr line 1 is '$first', expected '$2'"; fi
}

# expect_err_has NAME TEXT / expect_out_has NAME TEXT: a fixed string.
expect_err_has() {
    if grep -F -q -e "$2" "$T/err"; then ok; else fail "$1: stderr '$(head -n 2 "$T/err" | tr '\n' '|')' lacks '$2'"; fi
}
expect_out_has() {
    if grep -F -q -e "$2" "$T/out"; then ok; else fail "$1: stdout lacks '$2'"; fi
}

expect_err_empty() {
    if [ ! -s "$T/err" ]; then ok; else fail "$1: stderr not empty: '$(head -n 1 "$T/err")'"; fi
}
expect_out_empty() {
    if [ ! -s "$T/out" ]; then ok; else fail "$1: stdout not empty: '$(head -n 1 "$T/out")'"; fi
}

# expect_lines NAME N: stdout has exactly N lines.
expect_lines() {
    n=$(wc -l <"$T/out")
    n=$((n + 0))
    if [ "$n" -eq "$2" ]; then ok; else fail "$1: $n output lines, expected $2"; fi
}
# expect_all_match NAME ERE: every stdout line matches ERE (and there is one).
expect_all_match() {
    if [ -s "$T/out" ] && ! grep -E -v -q -e "$2" "$T/out"; then
        ok
    else
        fail "$1: a line of stdout does not match '$2': '$(grep -E -v -e "$2" "$T/out" | head -n 1)'"
    fi
}
# expect_usage NAME: exit 2 with a one-line message and the --help hint.
expect_usage() {
    if [ "$rc" -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 2 ] && grep -q -e "--help" "$T/err"; then
        ok
    else
        fail "$1: exit $rc, stderr '$(tr '\n' '|' <"$T/err")', expected a usage error"
    fi
}

# expect_file_line NAME FILE N TEXT: line N of FILE is exactly TEXT
expect_file_line() {
    got=$(sed -n "$3p" "$2")
    if [ "$got" = "$4" ]; then ok; else fail "$1: line $3 of $(basename "$2") is '$got', expected '$4'"; fi
}

# finish: the summary line, and the exit status.
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}
