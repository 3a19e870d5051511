#!/bin/sh
# tests/cli_vocab.sh — command-line tests of `tcat vocab` and
# `tcat tokenize --vocab`.
#
#   sh tests/cli_vocab.sh ./tcat
#
# Prints one line per failure and, last, "N passed, M failed"; exits 1 when
# anything failed. Scratch files live in one mktemp directory, removed at
# the end. No test depends on timing.

NAME=cli_vocab
. "$(dirname "$0")/cli_lib.sh"

# ---- a small corpus in several layouts -------------------------------------------

# 20 documents of a few words each; the same texts as TSV, JSONL and plain text
i=0
: >"$T/train.tsv"
: >"$T/train.jsonl"
: >"$T/train.txt"
while [ $i -lt 20 ]; do
    case $((i % 4)) in
    0) text="The players played the game; playing is fun. Players play!" ;;
    1) text="Workers worked on the working model, reworking it: work, work." ;;
    2) text="Readers read; the reader is reading a readable book. Re-read it." ;;
    3) text="酒店的房间很干净，服务很好。我们住了三天。Café naïve straße." ;;
    esac
    printf 'label%d\t%s\n' $((i % 2)) "$text" >>"$T/train.tsv"
    printf '{"label": "label%d", "text": "%s"}\n' $((i % 2)) "$text" >>"$T/train.jsonl"
    printf '%s\n' "$text" >>"$T/train.txt"
    i=$((i + 1))
done

# ---- help and usage errors -----------------------------------------------------------------

run vocab --help
expect_rc "vocab --help" 0
expect_out_has "vocab --help" "usage: tcat vocab TRAIN -o VOCAB"
expect_out_has "vocab --help lists --size" "--size N"
expect_out_has "vocab --help gives the default type" "[unigram]"
expect_err_empty "vocab --help"

run --help
expect_out_has "tcat --help lists vocab" "vocab"
if grep 'vocab' "$T/out" | grep -q 'not built'; then fail "tcat --help: vocab still 'not built yet'"; else ok; fi

run vocab
expect_rc "vocab without arguments" 2
expect_err_has "vocab without arguments" "missing TRAIN"
expect_out_empty "vocab without arguments"

run vocab "$T/train.tsv"
expect_rc "vocab without -o" 2
expect_err_has "vocab without -o" "missing -o VOCAB"

for bad in "--size 0" "--size abc" "--size -5" "--size 99999999999" "--type wordpiece" \
    "--coverage 0" "--coverage 1.5" "--coverage x" "--max-piece 0" "--max-piece 256" \
    "--format xml" "--frobnicate"; do
    # shellcheck disable=SC2086
    run vocab "$T/train.tsv" -o "$T/v" $bad
    expect_rc "vocab $bad" 2
    expect_err_has "vocab $bad: hint" "Try 'tcat vocab --help'"
done
if [ ! -e "$T/v" ]; then ok; else fail "a usage error wrote a vocabulary"; fi

run vocab "$T/train.txt" --text --format tsv -o "$T/v"
expect_rc "--text with --format" 2

run vocab "$T/train.tsv" "$T/train.txt" -o "$T/v"
expect_rc "two TRAINs" 2

run vocab "$T/train.tsv" -o "$T/v" --size
expect_rc "--size without value" 2
expect_err_has "--size without value" "needs a value"

# ---- building ------------------------------------------------------------------------------

run vocab "$T/train.tsv" -o "$T/u.vocab" --size 60
expect_rc "vocab unigram from TSV" 0
expect_out_empty "vocab unigram from TSV"
expect_err_has "vocab summary" "20 documents"
expect_err_has "vocab summary" "pieces (unigram) + 256 byte pieces"
header=$(head -n 1 "$T/u.vocab")
case $header in
"tcat-vocab 1 unigram "*) ok ;;
*) fail "unigram header: '$header'" ;;
esac
n=${header##* }
if [ "$(($(wc -l <"$T/u.vocab") - 1))" -eq "$n" ] && [ "$n" -le 60 ] && [ "$n" -gt 20 ]; then ok; else fail "unigram: header says $n, file has $(wc -l <"$T/u.vocab") lines"; fi
if awk -F '\t' 'NR > 1 && (NF != 2 || $2 + 0 >= 0) { bad = 1 } END { exit bad }' "$T/u.vocab"; then ok; else fail "unigram lines are not PIECE<TAB>negative score"; fi

run vocab "$T/train.tsv" -o "$T/b.vocab" --size 60 --type bpe -q
expect_rc "vocab bpe -q" 0
expect_err_empty "vocab bpe -q"
expect_file_line "bpe header" "$T/b.vocab" 1 "tcat-vocab 1 bpe 60"
if awk -F '\t' 'NR > 1 && NF != 1 && NF != 2 { bad = 1 } END { exit bad }' "$T/b.vocab"; then ok; else fail "bpe lines are not PIECE or LEFT<TAB>RIGHT"; fi

# determinism, and labels/layouts do not matter
run vocab "$T/train.tsv" -o "$T/u2.vocab" --size 60 -q
if cmp -s "$T/u.vocab" "$T/u2.vocab"; then ok; else fail "two unigram runs differ"; fi
run vocab "$T/train.jsonl" -o "$T/u3.vocab" --size 60 -q
if cmp -s "$T/u.vocab" "$T/u3.vocab"; then ok; else fail "JSONL and TSV of the same texts differ"; fi
run vocab "$T/train.txt" --text -o "$T/u4.vocab" --size 60 -q
if cmp -s "$T/u.vocab" "$T/u4.vocab"; then ok; else fail "--text and TSV of the same texts differ"; fi
cp "$T/train.txt" "$T/stdin"
run vocab - --text -o "$T/u5.vocab" --size 60 -q
expect_rc "vocab --text from stdin" 0
if cmp -s "$T/u.vocab" "$T/u5.vocab"; then ok; else fail "stdin and file differ"; fi
: >"$T/stdin"
run vocab "$T/train.tsv" -o "$T/b2.vocab" --size 60 --type bpe -q
if cmp -s "$T/b.vocab" "$T/b2.vocab"; then ok; else fail "two bpe runs differ"; fi

# more pieces asked than the text holds: fewer, said so
run vocab "$T/train.tsv" -o "$T/big.vocab" --size 5000 --type bpe
expect_rc "vocab --size 5000 on a small text" 0
expect_err_has "vocab --size 5000" "fewer than asked"

# ---- bad input, I/O ------------------------------------------------------------------------

printf 'label\tgood line\nno tab here\n' >"$T/bad.tsv"
cp "$T/u.vocab" "$T/keep.vocab"
run vocab "$T/bad.tsv" -o "$T/keep.vocab"
expect_rc "vocab on a TSV line without a tab" 3
expect_err_has "bad TSV names file and line" "bad.tsv:2"
if cmp -s "$T/u.vocab" "$T/keep.vocab"; then ok; else fail "a failed build touched the existing vocabulary"; fi

run vocab "$T/missing.tsv" -o "$T/v"
expect_rc "vocab on a missing file" 4
expect_err_has "missing file named" "missing.tsv"

run vocab "$T/train.tsv" -o "$T/no/such/dir/v.vocab"
expect_rc "vocab into a missing directory" 4
expect_err_has "missing directory named" "no/such/dir/v.vocab"
if [ -z "$(ls "$T" | grep '\.tmp\.')" ]; then ok; else fail "temporary file left behind"; fi

printf '\n\n\n' >"$T/empty.txt"
run vocab "$T/empty.txt" --text -o "$T/v"
expect_rc "vocab on text without words" 3
expect_err_has "no words" "no words"

# ---- tokenize --vocab ----------------------------------------------------------------------

input 'The players played\n\nCafé\n'
run tokenize --vocab "$T/b.vocab"
expect_rc "tokenize --vocab" 0
expect_err_empty "tokenize --vocab"
if [ "$(wc -l <"$T/out")" -eq 3 ] && [ -z "$(sed -n 2p "$T/out")" ]; then ok; else fail "tokenize --vocab: line structure '$(tr '\n' '|' <"$T/out")'"; fi
expect_out_has "tokenize --vocab: word-start marks" "▁"

# the pieces of each line, glued and with the marks made spaces, are its tokens
"$TCAT" tokenize "$T/train.txt" >"$T/tokens" 2>/dev/null
for v in u b; do
    run tokenize --vocab "$T/$v.vocab" "$T/train.txt"
    expect_rc "tokenize --vocab $v.vocab FILE" 0
    sed 's/ //g; s/▁/ /g; s/^ //' "$T/out" >"$T/glued"
    if cmp -s "$T/glued" "$T/tokens"; then ok; else fail "$v: pieces do not glue back to the tokens: $(diff "$T/glued" "$T/tokens" | head -n 3 | tr '\n' '|')"; fi
    if [ "$(wc -w <"$T/out")" -ge "$(wc -w <"$T/tokens")" ]; then ok; else fail "$v: fewer pieces than tokens"; fi
done

# byte fallback: a character the vocabulary never saw
input 'ωmega\n'
run tokenize --vocab "$T/u.vocab"
expect_rc "tokenize --vocab, unseen character" 0
expect_out_has "byte fallback" "<0xCF> <0x89>"

# every piece printed is in the vocabulary or a byte piece
run tokenize --vocab "$T/u.vocab" "$T/train.txt"
tr ' ' '\n' <"$T/out" | grep -v '^$' | grep -v '^<0x[0-9A-F][0-9A-F]>$' | sort -u >"$T/used"
cut -f1 "$T/u.vocab" | tail -n +2 | sort -u >"$T/known"
if [ -z "$(comm -23 "$T/used" "$T/known")" ]; then ok; else fail "pieces not in the vocabulary: $(comm -23 "$T/used" "$T/known" | head -n 3 | tr '\n' ' ')"; fi

# with --model-less tokenizer options too
input 'The Players\n'
run tokenize --keep-case --vocab "$T/b.vocab"
expect_rc "tokenize --keep-case --vocab" 0

# bad vocabularies
printf 'tcat-vocab 1 unigram 2\na\t-1\nb\tx\n' >"$T/bad.vocab"
input 'a\n'
run tokenize --vocab "$T/bad.vocab"
expect_rc "tokenize with a malformed vocabulary" 5
expect_err_has "malformed vocabulary: file and line" "bad.vocab:3: bad score"
expect_out_empty "malformed vocabulary"

head -n 10 "$T/u.vocab" >"$T/cut.vocab"
run tokenize --vocab "$T/cut.vocab"
expect_rc "tokenize with a truncated vocabulary" 5
expect_err_has "truncated vocabulary" "truncated"

run tokenize --vocab "$T/train.tsv"
expect_rc "tokenize with a file that is no vocabulary" 5
expect_err_has "not a vocabulary" "not a tcat vocabulary"

run tokenize --vocab "$T/missing.vocab"
expect_rc "tokenize with a missing vocabulary" 4
expect_err_has "missing vocabulary named" "missing.vocab"

run tokenize --vocab
expect_rc "tokenize --vocab without value" 2

run tokenize --help
expect_out_has "tokenize --help lists --vocab" "--vocab VOCAB"

# ---- the end ------------------------------------------------------------------------------------

finish
