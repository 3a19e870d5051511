#!/bin/sh
# tests/cli.sh — command-line tests of tcat.
#
#   sh tests/cli.sh ./tcat
#
# Prints one line per failure and, last, "N passed, M failed"; exits 1 when
# anything failed. Scratch files live in one mktemp directory, removed at
# the end. TCAT_SANITIZED=1 (set by `make check-asan`) shrinks the very
# long line and lifts the memory limit, which ASan's shadow memory breaks.

NAME=cli
. "$(dirname "$0")/cli_lib.sh"

: >"$T/stdin"

# ---- help, version, usage errors ------------------------------------------

run --help
expect_rc "--help" 0
expect_out_has "--help" "usage: tcat COMMAND"
expect_out_has "--help lists tokenize" "tokenize"
expect_err_empty "--help"

run -h
expect_rc "-h" 0
run help
expect_rc "help" 0
run help tokenize
expect_rc "help tokenize" 0
expect_out_has "help tokenize" "usage: tcat tokenize"

run --version
expect_rc "--version" 0
if [ "$(wc -l <"$T/out")" -eq 1 ] && grep -q '^tcat [0-9][0-9.]* (ICU ' "$T/out"; then ok; else fail "--version: '$(cat "$T/out")'"; fi
run -V
expect_rc "-V" 0

run
expect_rc "no arguments" 2
expect_out_empty "no arguments"
expect_err_has "no arguments" "usage: tcat COMMAND"

run frobnicate
expect_rc "unknown command" 2
expect_out_empty "unknown command"
expect_err_line "unknown command" "tcat: unknown command 'frobnicate'"

run help frobnicate
expect_rc "help of an unknown command" 2
expect_err_line "help of an unknown command" "tcat: unknown command 'frobnicate'"

run --frobnicate
expect_rc "unknown option" 2
expect_out_empty "unknown option"
expect_err_line "unknown option" "tcat: unknown option '--frobnicate'"

run tokenize --frobnicate
expect_rc "tokenize: unknown option" 2
expect_out_empty "tokenize: unknown option"
expect_err_line "tokenize: unknown option" "tcat tokenize: unknown option '--frobnicate'"

run tokenize -Z
expect_rc "tokenize: unknown short option" 2
expect_err_line "tokenize: unknown short option" "tcat tokenize: unknown option '-Z'"

run tokenize --patterns
expect_rc "tokenize: option without its value" 2
expect_err_has "tokenize: option without its value" "--patterns"

for w in 63 0 abc 64k -64 1073741825; do
    run tokenize --window "$w"
    expect_rc "tokenize --window $w" 2
    expect_err_has "tokenize --window $w" "'$w'"
done

# ---- every command has its help; those that need arguments say so ---------------

for c in train predict eval vocab info; do
    run "$c" --help
    expect_rc "$c --help" 0
    expect_out_has "$c --help" "usage: tcat $c"
    run help "$c"
    expect_rc "help $c" 0
done
for c in train predict eval vocab info; do
    run "$c"
    expect_rc "$c without arguments" 2
    expect_err_has "$c" "missing"
    expect_out_empty "$c"
done

run tokenize --model /nonexistent/model.tcat
expect_rc "tokenize --model missing" 4
expect_err_has "tokenize --model missing" "/nonexistent/model.tcat"

run tokenize --help
expect_rc "tokenize --help" 0
expect_out_has "tokenize --help" "usage: tcat tokenize"

# ---- tokenize: stdin, files, line structure --------------------------------------

input 'Hello, World!\n我喜欢吃苹果\nสวัสดีครับ\n'
run tokenize
expect_rc "tokenize stdin" 0
expect_out "tokenize stdin" 'hello world\n我 喜欢 吃 苹果\nสวัสดี ครับ\n'
expect_err_empty "tokenize stdin"

run tokenize -
expect_rc "tokenize -" 0
expect_out "tokenize -" 'hello world\n我 喜欢 吃 苹果\nสวัสดี ครับ\n'

input ''
run tokenize
expect_rc "empty stdin" 0
expect_out "empty stdin" ''

input '\n\n\n'
run tokenize
expect_out "empty lines" '\n\n\n'

input 'one\r\ntwo  three\r\n\r\n!!!\r\nfour'
run tokenize
expect_rc "CRLF" 0
expect_out "CRLF, punctuation-only line, no final newline" 'one\ntwo three\n\n\nfour\n'

input '\357\273\277BOM first\n'
run tokenize
expect_out "BOM" 'bom first\n'

printf 'A b\n\nC' >"$T/f1"
printf '\r\nDé\r\n' >"$T/f2"
printf 'Last line\n' >"$T/f3"
: >"$T/empty"
input 'not read\n'
run tokenize "$T/f1" "$T/empty" "$T/f2" "$T/f3"
expect_rc "several files" 0
expect_out "several files" 'a b\n\nc\n\ndé\nlast line\n'

run tokenize "$T/f1" - "$T/f3"
expect_out "a file, stdin, a file" 'a b\n\nc\nnot read\nlast line\n'

# one output line per input line on a bigger file
i=0
: >"$T/many"
while [ $i -lt 2000 ]; do
    echo "line $i with some words 第$i行" >>"$T/many"
    echo >>"$T/many"
    i=$((i + 1))
done
run tokenize "$T/many"
expect_rc "many lines" 0
if [ "$(wc -l <"$T/out")" -eq 4000 ]; then ok; else fail "many lines: $(wc -l <"$T/out") output lines for 4000"; fi
if [ "$(sed -n '3999p' "$T/out")" = "line 1999 with some words 第 1999 行" ]; then ok; else fail "many lines: line 3999 is '$(sed -n '3999p' "$T/out")'"; fi

# ---- I/O errors, bad pattern tables ---------------------------------------------------

run tokenize "$T/f1" "$T/missing.txt" "$T/f3"
expect_rc "missing file" 4
expect_err_has "missing file" "$T/missing.txt"
expect_out "missing file: the other files still done" 'a b\n\nc\nlast line\n'

run tokenize "$T"
expect_rc "a directory as input" 4
expect_err_has "a directory as input" "$T"

input 'x\n'
"$TCAT" tokenize <"$T/stdin" >/dev/full 2>"$T/err"
rc=$?
expect_rc "stdout full" 4
expect_err_has "stdout full" "stdout"

printf '# comment\nok\t*\tx\nbroken line without tabs\n' >"$T/bad1.tsv"
run tokenize --patterns "$T/bad1.tsv"
expect_rc "pattern table without tabs" 3
expect_err_has "pattern table without tabs" "$T/bad1.tsv"
expect_err_has "pattern table without tabs" "line 3"

printf 'bad\t*\t(unclosed\n' >"$T/bad2.tsv"
run tokenize --patterns "$T/bad2.tsv"
expect_rc "pattern table with a bad regex" 3
expect_err_has "pattern table with a bad regex" "line 1"

printf 'bad\t9-0\tx\n' >"$T/bad3.tsv"
run tokenize --patterns "$T/bad3.tsv"
expect_rc "pattern table with a bad trigger list" 3

printf 'nul\t*\ta\000b\n' >"$T/bad4.tsv"
run tokenize --patterns "$T/bad4.tsv"
expect_rc "pattern table with a NUL byte" 3

run tokenize --patterns "$T/no-such.tsv"
expect_rc "missing pattern table" 4
expect_err_has "missing pattern table" "$T/no-such.tsv"

printf '# issue numbers\nissue\t#\t#[0-9]+\n' >"$T/good.tsv"
input 'Fixes #12, see http://x.org :)\n'
run tokenize --patterns "$T/good.tsv"
expect_rc "custom pattern table" 0
expect_out "custom pattern table" 'fixes #12 see http x.org\n'

# ---- repairs: invalid UTF-8 and NUL ------------------------------------------------------

input 'a\377b \300\257 \355\240\200 \344\270\n'
run tokenize
expect_rc "invalid UTF-8" 0
expect_out "invalid UTF-8" 'a \357\277\275 b \357\277\275 \357\277\275 \357\277\275 \357\277\275 \357\277\275 \357\277\275\n'
expect_err_has "invalid UTF-8 summary" "stdin: repaired 7 invalid UTF-8 sequence(s)"
expect_err_has "invalid UTF-8 summary" "and 0 NUL byte(s)"

input 'a\000b\000\000c\n'
run tokenize
expect_rc "NUL bytes" 0
expect_out "NUL bytes" 'a b c\n'
expect_err_has "NUL summary" "repaired 0 invalid UTF-8 sequence(s) (replaced by U+FFFD) and 3 NUL byte(s)"

printf 'x\377\n' >"$T/bad-utf8"
run tokenize "$T/bad-utf8"
expect_rc "invalid UTF-8 in a file" 0
expect_err_has "invalid UTF-8 in a file: the summary names it" "$T/bad-utf8: repaired 1 invalid"

input 'a\377b\000c\n'
run tokenize -q
expect_rc "-q" 0
expect_out "-q" 'a \357\277\275 b c\n'
expect_err_empty "-q"
run tokenize --quiet
expect_err_empty "--quiet"

input 'clean text\n'
run tokenize
expect_err_empty "no repairs, no summary"

# ---- options ----------------------------------------------------------------------------------

input 'Hello, WORLD! ﬁ Ａ１ :-) 50%%\n'
run tokenize --keep-case
expect_out "--keep-case" 'Hello WORLD fi A1 :-) 50%%\n'
run tokenize --no-nfkc --keep-case
expect_out "--no-nfkc --keep-case" 'Hello WORLD ﬁ Ａ１ :-) 50%%\n'
run tokenize --keep-punct
expect_out "--keep-punct" 'hello , world ! fi a1 :-) 50%%\n'
run tokenize --no-patterns
expect_out "--no-patterns" 'hello world fi a1 50\n'
run tokenize --unbuffered
expect_out "--unbuffered" 'hello world fi a1 :-) 50%%\n'

# ---- windows: long lines in pieces ----------------------------------------------------------

i=0
: >"$T/long"
while [ $i -lt 300 ]; do
    printf 'Word%d 東京に行きます 3,14 https://x.org/p%d 😀 привет! ' $i $i >>"$T/long"
    i=$((i + 1))
done
printf '\nsecond line\n' >>"$T/long"
"$TCAT" tokenize "$T/long" >"$T/long.whole" 2>"$T/err"
for w in 64 100 1000; do
    run tokenize --window $w "$T/long"
    expect_rc "--window $w" 0
    if cmp -s "$T/out" "$T/long.whole"; then ok; else fail "--window $w: tokens differ from a whole-line run"; fi
done
if [ "$(wc -l <"$T/long.whole")" -eq 2 ]; then ok; else fail "long line: $(wc -l <"$T/long.whole") output lines for 2"; fi

# a long run of emoji without spaces: a window must not cut inside one
i=0
: >"$T/emoji"
while [ $i -lt 40 ]; do
    printf '👨‍👩‍👧🇩🇪🇫🇷' >>"$T/emoji"
    i=$((i + 1))
done
echo >>"$T/emoji"
"$TCAT" tokenize "$T/emoji" >"$T/emoji.whole" 2>"$T/err"
run tokenize --window 64 "$T/emoji"
if cmp -s "$T/out" "$T/emoji.whole"; then ok; else fail "--window 64 on a line of emoji without spaces: an emoji is cut (e.g. '$(tr ' ' '\n' <"$T/out" | grep -v -x -e '👨‍👩‍👧' -e '🇩🇪' -e '🇫🇷' | head -n 1)')"; fi

# ---- a very long single line in bounded memory --------------------------------------------

if [ -n "$TCAT_SANITIZED" ]; then
    mb=8
else
    mb=100
fi
# yes prints "word 語 \n" (10 bytes); without the newlines, 2 tokens each
units=$((mb * 100000))
if [ "$(printf '語 x\n' | LC_ALL=C.UTF-8 wc -w 2>/dev/null)" -eq 2 ] 2>/dev/null; then
    count() { LC_ALL=C.UTF-8 wc -w; }
else
    count() { tr -s ' \n' '\n\n' | grep -c .; }
fi
tokens=$(
    yes 'word 語 ' | head -c $((units * 10)) | tr -d '\n' | {
        if [ -z "$TCAT_SANITIZED" ]; then ulimit -v 200000; fi
        "$TCAT" tokenize 2>"$T/err"
        echo "rc=$?" >"$T/rc"
    } | count
)
if [ "$(cat "$T/rc")" = "rc=0" ]; then ok; else fail "${mb} MB line: $(cat "$T/rc") ($(head -n 1 "$T/err"))"; fi
tokens=$(echo $tokens)
if [ "$tokens" = $((units * 2)) ]; then ok; else fail "${mb} MB line: $tokens tokens, expected $((units * 2))"; fi

# ---- the end ------------------------------------------------------------------------------------

finish
