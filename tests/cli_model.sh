#!/bin/sh
# tests/cli_model.sh — command-line tests of the commands that use a model:
# tcat predict, tcat eval and tcat info, on a tiny model trained here.
#
#   sh tests/cli_model.sh ./tcat
#
# Prints one line per failure and, last, "N passed, M failed"; exits 1 when
# anything failed. Scratch files live in one mktemp directory, removed at
# the end.

NAME=cli_model
. "$(dirname "$0")/cli_lib.sh"

# expect_json NAME [lines]: stdout is JSON (one object per line with
# "lines"); checked with python3 when there is one.
if command -v python3 >/dev/null 2>&1; then
    expect_json() {
        if [ "$2" = lines ]; then
            py='import json,sys
for l in sys.stdin:
    assert isinstance(json.loads(l), dict)'
        else
            py='import json,sys
assert isinstance(json.load(sys.stdin), dict)'
        fi
        if python3 -c "$py" <"$T/out" 2>/dev/null; then ok; else fail "$1: stdout is not valid JSON: '$(head -c 200 "$T/out" | tr '\n' '|')'"; fi
    }
else
    expect_json() {
        if [ "$2" = lines ]; then
            if [ -s "$T/out" ] && ! grep -v -q -e '^{.*}$' "$T/out"; then ok; else fail "$1: stdout lines are not JSON objects"; fi
        else
            if head -n 1 "$T/out" | grep -q '^{' && tail -n 1 "$T/out" | grep -q '^}'; then ok; else fail "$1: stdout is not a JSON object"; fi
        fi
    }
fi

# ---- a tiny model ---------------------------------------------------------------------------

i=0
: >"$T/train.tsv"
while [ $i -lt 12 ]; do
    printf 'sport\tfootball match goal team %s\n' $i >>"$T/train.tsv"
    printf 'food\tpizza pasta cheese dinner %s\n' $i >>"$T/train.tsv"
    printf 'tech\tcomputer software code laptop %s\n' $i >>"$T/train.tsv"
    i=$((i + 1))
done
"$TCAT" train "$T/train.tsv" -o "$T/m.tcat" --trials 3 -q >"$T/out" 2>"$T/err"
rc=$?
expect_rc "train the tiny model" 0
if [ ! -s "$T/m.tcat" ]; then
    fail "train wrote no model; nothing else can be tested"
    echo "$passed passed, $failed failed"
    exit 1
fi
M=$T/m.tcat

# ---- predict: stdin -------------------------------------------------------------------------

input 'football goal team\npizza cheese\n\ncode laptop software\r\ngoal match'
run predict "$M"
expect_rc "predict stdin" 0
expect_lines "predict stdin: one line per input line, the empty one too" 5
expect_all_match "predict stdin: label<TAB>prob" '^(sport|food|tech)	[01]\.[0-9]{4}$'
cut -f 1 "$T/out" | sed -n '1p;2p;4p;5p' | tr '\n' ' ' >"$T/labels"
if [ "$(cat "$T/labels")" = "sport food tech sport " ]; then ok; else fail "predict stdin: labels '$(cat "$T/labels")', expected 'sport food tech sport '"; fi
expect_err_empty "predict stdin: nothing on stderr"

run predict "$M" -
expect_lines "predict -: stdin too" 5

# the same answers whatever the batch size, in the same order
i=0
: >"$T/many"
while [ $i -lt 300 ]; do
    printf 'pizza %s\ncode %s\n\nteam goal %s\n' $i $i $i >>"$T/many"
    i=$((i + 1))
done
"$TCAT" predict "$M" <"$T/many" >"$T/b256" 2>/dev/null
"$TCAT" predict --batch 7 --threads 1 "$M" <"$T/many" >"$T/b7" 2>/dev/null
"$TCAT" predict --unbuffered "$M" <"$T/many" >"$T/b1" 2>/dev/null
# batches split over 3 workers, each tokenizing and predicting its part
"$TCAT" predict --batch 100 --threads 3 "$M" <"$T/many" >"$T/t3" 2>/dev/null
if [ "$(wc -l <"$T/b256")" -eq 1200 ] && cmp -s "$T/b256" "$T/b7" && cmp -s "$T/b256" "$T/b1" &&
    cmp -s "$T/b256" "$T/t3"; then
    ok
else
    fail "predict: 1200 lines give $(wc -l <"$T/b256") lines, or --batch 7 / --unbuffered / --threads 3 answer differently"
fi

input ''
run predict "$M"
expect_rc "predict: empty stdin" 0
expect_out "predict: empty stdin, no output" ''

input 'pizza\377\000cheese\n'
run predict "$M"
expect_rc "predict: invalid UTF-8 and NUL" 0
expect_lines "predict: invalid UTF-8 and NUL, one line" 1
expect_err_has "predict: repairs counted on stderr" "repaired 1 invalid UTF-8 sequence(s)"
run predict -q "$M"
expect_err_empty "predict -q: no repair summary"

# ---- predict: files -------------------------------------------------------------------------

printf 'football match\ngoal goal team\n' >"$T/doc1"
printf 'software code' >"$T/doc2"
run predict "$M" "$T/doc1" "$T/missing" "$T/doc2"
expect_rc "predict FILEs with a missing one: exit 4" 4
expect_err_has "predict: the missing file is named" "$T/missing"
expect_out "predict FILEs: FILE<TAB>label<TAB>prob, the others still done" \
    "$(printf '%s\tsport\t' "$T/doc1")$(sed -n 1p "$T/out" | cut -f 3)\n$(printf '%s\ttech\t' "$T/doc2")$(sed -n 2p "$T/out" | cut -f 3)\n"
expect_all_match "predict FILEs: prob with 4 decimals" '	[01]\.[0-9]{4}$'

# ---- predict: --top-k, --proba, --format json -----------------------------------------------

input 'pizza pasta\ncode\n'
run predict --top-k 2 "$M"
expect_rc "predict --top-k 2" 0
expect_all_match "predict --top-k 2: two pairs" '^[a-z]+	[01]\.[0-9]{4}	[a-z]+	[01]\.[0-9]{4}$'
if [ "$(cut -f 1 "$T/out" | tr '\n' ' ')" = "food tech " ]; then ok; else fail "predict --top-k 2: best labels '$(cut -f 1 "$T/out" | tr '\n' ' ')'"; fi
run predict --top-k 9 "$M"
expect_all_match "predict --top-k 9 with 3 classes: three pairs" '^([a-z]+	[01]\.[0-9]{4}	){2}[a-z]+	[01]\.[0-9]{4}$'

"$TCAT" info --json "$M" >"$T/info.json" 2>/dev/null
order=$(tr -d ' \n' <"$T/info.json" | sed 's/.*"labels":\[\([^]]*\)\].*/\1/' | tr -d '"' | tr ',' ' ')
run predict --proba "$M"
expect_all_match "predict --proba: every class" '^([a-z]+	[01]\.[0-9]{4}	){2}[a-z]+	[01]\.[0-9]{4}$'
got=$(head -n 1 "$T/out" | cut -f 1,3,5 | tr '\t' ' ')
if [ -n "$order" ] && [ "$got" = "$order" ]; then ok; else fail "predict --proba: labels '$got', expected the model order '$order'"; fi

run predict --format json "$M"
expect_json "predict --format json" lines
expect_all_match "predict --format json: label and prob" '^\{"label":"[a-z]+","prob":[01]\.[0-9]{4}\}$'
run predict --format json --top-k 2 "$M"
expect_json "predict --format json --top-k 2" lines
expect_out_has "predict --format json --top-k 2: top" '"top":[{"label":'
run predict --format json --proba "$M" "$T/doc1"
expect_json "predict --format json --proba FILE" lines
expect_out_has "predict --format json FILE: file" "{\"file\":\"$T/doc1\",\"label\":\"sport\""

# ---- predict: errors ------------------------------------------------------------------------

head -c 300 "$M" >"$T/trunc.tcat"
input 'pizza\n'
run predict "$T/trunc.tcat"
expect_rc "predict: truncated model, exit 5" 5
expect_err_has "predict: truncated model, a message" "trunc.tcat"
printf 'not a model at all' >"$T/junk.tcat"
run predict "$T/junk.tcat"
expect_rc "predict: a foreign file, exit 5" 5
run predict "$T/nonexistent.tcat"
expect_rc "predict: a missing model, exit 4" 4

run predict
expect_usage "predict with no MODEL"
run predict --top-k 0 "$M"
expect_usage "predict --top-k 0"
run predict --top-k many "$M"
expect_usage "predict --top-k many"
run predict --top-k "$M"
expect_usage "predict --top-k without a value"
run predict --bogus "$M"
expect_usage "predict --bogus"
run predict --format xml "$M"
expect_usage "predict --format xml"
run predict --threads 0 "$M"
expect_usage "predict --threads 0"
run predict --batch -3 "$M"
expect_usage "predict --batch -3"

run predict --help
expect_rc "predict --help" 0
for opt in --top-k --proba --format --threads --batch --unbuffered --quiet; do
    expect_out_has "predict --help lists $opt" "$opt"
done

# ---- eval -----------------------------------------------------------------------------------

printf 'sport\tgoal team football\nfood\tpasta dinner\ntech\tlaptop computer\nsport\tmatch goal\n' >"$T/test.tsv"
run eval "$M" "$T/test.tsv"
expect_rc "eval" 0
expect_out_has "eval: model and test named" "test.tsv"
expect_out_has "eval: document count" "4 documents"
expect_out_has "eval: accuracy" "accuracy          1.0000"
expect_out_has "eval: macro-F1" "macro-F1"
expect_out_has "eval: per-class table" "precision"
expect_out_has "eval: confusion matrix" "confusion matrix"
expect_err_empty "eval: nothing on stderr"

run eval --json "$M" "$T/test.tsv"
expect_rc "eval --json" 0
expect_json "eval --json"
expect_out_has "eval --json: model" '"model":'
expect_out_has "eval --json: documents" '"documents": 4'
expect_out_has "eval --json: accuracy" '"accuracy": 1.0'

printf 'sport\tgoal team\nweather\train sun\nweather\tsnow\n' >"$T/unknown.tsv"
run eval "$M" "$T/unknown.tsv"
expect_rc "eval: a label unknown to the model is not fatal" 0
expect_err_has "eval: the unknown label is reported" "'weather' (2)"
expect_out_has "eval: unknown labels counted" "unknown labels    2"

printf 'sport\tgoal\nno tab here\n' >"$T/bad.tsv"
run eval "$M" "$T/bad.tsv"
expect_rc "eval: malformed TEST, exit 3" 3
expect_err_has "eval: malformed TEST names FILE:LINE" "bad.tsv:2:"

printf '__label__food pizza\n__label__tech code\n' >"$T/test.txt"
run eval --format fasttext "$M" "$T/test.txt"
expect_rc "eval --format fasttext" 0
expect_out_has "eval --format fasttext: 2 documents" "2 documents"

run eval "$M"
expect_usage "eval without TEST"
run eval --format nope "$M" "$T/test.tsv"
expect_usage "eval --format nope"
run eval "$T/trunc.tcat" "$T/test.tsv"
expect_rc "eval: truncated model, exit 5" 5

# ---- info -----------------------------------------------------------------------------------

run info "$M"
expect_rc "info" 0
expect_out_has "info: labels" "labels:"
expect_out_has "info: label sport" "sport"
expect_out_has "info: label food" "food"
expect_out_has "info: label tech" "tech"
expect_out_has "info: format version" "format version:"
expect_out_has "info: a member" "#0  linear"
expect_out_has "info: tokenizer" "tokenizer:"

run info --json "$M"
expect_rc "info --json" 0
expect_json "info --json"
expect_out_has "info --json: labels" '"labels": ['
expect_out_has "info --json: members" '"members": ['
expect_out_has "info --json: format version" '"format_version": 1'

run info "$T/trunc.tcat"
expect_rc "info: truncated model, exit 5" 5
run info
expect_usage "info with no MODEL"
run info --bogus "$M"
expect_usage "info --bogus"

# ---- train: reproducibility, promotion, refusals ---------------------------------------

# the same data, seed and threads give the same file, byte for byte
SOURCE_DATE_EPOCH=1 "$TCAT" train "$T/train.tsv" -o "$T/r1.tcat" --trials 4 --seed 3 --threads 2 -q
SOURCE_DATE_EPOCH=1 "$TCAT" train "$T/train.tsv" -o "$T/r2.tcat" --trials 4 --seed 3 --threads 2 -q
if cmp -s "$T/r1.tcat" "$T/r2.tcat"; then ok; else fail "train: two runs with one seed differ"; fi
SOURCE_DATE_EPOCH=1 "$TCAT" train "$T/train.tsv" -o "$T/ft1.tcat" --models fasttext --seed 3 -q
SOURCE_DATE_EPOCH=1 "$TCAT" train "$T/train.tsv" -o "$T/ft2.tcat" --models fasttext --seed 3 -q
if cmp -s "$T/ft1.tcat" "$T/ft2.tcat"; then ok; else fail "train fasttext: two runs with one seed differ"; fi

# --promote-if-better: a worse model leaves the good one in place, exit 6
cp "$M" "$T/prod.tcat"
awk -F '\t' 'BEGIN { srand(5) } { l[NR] = $1; t[NR] = $2 }
     END { for (i = 1; i <= NR; i++) print l[(i % NR) + 1] "\t" t[i] }' "$T/train.tsv" >"$T/shuffled.tsv"
run train "$T/shuffled.tsv" -o "$T/prod.tcat" --dev "$T/train.tsv" --trials 2 --promote-if-better -q
expect_rc "train --promote-if-better with worse data" 6
expect_err_has "train --promote-if-better: says why" "not promoted"
if cmp -s "$M" "$T/prod.tcat"; then ok; else fail "train --promote-if-better replaced the model"; fi
run train "$T/train.tsv" -o "$T/prod.tcat" --dev "$T/train.tsv" --trials 2 --promote-if-better -q
expect_rc "train --promote-if-better with good data" 0

# the neural families end to end: train (with unlabelled text for the
# in-domain vectors), info, predict through a pipe
cut -f2 "$T/train.tsv" >"$T/unlabeled.txt"
run train "$T/train.tsv" -o "$T/cnn.tcat" --models cnn --unlabeled "$T/unlabeled.txt" \
    --params '{"dim":8,"maps":4,"epochs":2,"init":"skipgram"}' --seed 3
expect_rc "train --models cnn --unlabeled" 0
expect_err_has "train --unlabeled: counted" "(unlabelled)"
run info "$T/cnn.tcat"
expect_out_has "info: the cnn member" "cnn"
# (small data, so cross-validation: the network is a bag of three seeds)
run train "$T/train.tsv" -o "$T/rnn.tcat" --models rnn --params '{"dim":8,"hidden":4,"epochs":2}' \
    --report "$T/rnn.json"
expect_rc "train --models rnn" 0
if grep -q '"seeds": *3' "$T/rnn.json"; then ok; else fail "train --report: the rnn is not a bag of 3 seeds"; fi
run info "$T/rnn.tcat"
expect_out_has "info: the rnn member is a bag" "bag=3"
head -5 "$T/unlabeled.txt" | "$TCAT" predict "$T/rnn.tcat" >"$T/out" 2>"$T/err"
if [ "$(wc -l <"$T/out")" -eq 5 ]; then ok; else fail "predict with an rnn model: $(cat "$T/err")"; fi
run train "$T/train.tsv" -o "$T/x.tcat" --models cnn --params '{"bag":0}' -q
expect_rc "train --params bag 0" 2
expect_err_has "train --params bag 0: says which" "'bag'"
run train "$T/train.tsv" -o "$T/x.tcat" --unlabeled "$T/nonexistent.txt" --models rnn
expect_rc "train --unlabeled missing file" 4

# class weights and a throughput floor; their refusals
run train "$T/train.tsv" -o "$T/cw.tcat" --trials 3 --class-weight balanced --min-throughput 1 \
    --report "$T/cw.json"
expect_rc "train --class-weight balanced --min-throughput 1" 0
if grep -q '"class_weight": *"balanced"' "$T/cw.json"; then ok; else fail "train --report: no balanced class weight"; fi
if grep -q '"predict_docs_per_s"' "$T/cw.json"; then ok; else fail "train --report: no predict throughput"; fi
run train "$T/train.tsv" -o "$T/x.tcat" --class-weight heavy
expect_usage "train --class-weight heavy"
run train "$T/train.tsv" -o "$T/x.tcat" --min-throughput -5
expect_usage "train --min-throughput -5"

# refusals
printf 'a\tone text\na\tanother text\n' >"$T/one.tsv"
run train "$T/one.tsv" -o "$T/one.tcat"
expect_rc "train: one class" 3
expect_err_has "train: one class, said" "at least two classes"
run train "$T/train.tsv" --models bogus -o "$T/x.tcat"
expect_usage "train --models bogus"
run train "$T/train.tsv" --models fasttext --params '{"colour":1}' -o "$T/x.tcat"
expect_rc "train --params with an unknown key" 2
expect_err_has "train --params: names the key" "colour"
run train "$T/train.tsv" --params '{}' -o "$T/x.tcat"
expect_usage "train --params without one family"
run train "$T/train.tsv" --time 5x -o "$T/x.tcat"
expect_usage "train --time 5x"
printf 'x\ty\nno tab here\n' >"$T/badtrain.tsv"
run train "$T/badtrain.tsv" -o "$T/x.tcat"
expect_rc "train: malformed TSV" 3
expect_err_has "train: malformed TSV names FILE:LINE" "badtrain.tsv:2:"
if [ ! -e "$T/x.tcat" ]; then ok; else fail "a failed train left a model file"; fi

# ---- multi-label data ---------------------------------------------------------------------

# fastText format with several labels per line: one-vs-all models, tuned
# thresholds, predict prints every label over its threshold
i=0
: >"$T/ml.txt"
while [ $i -lt 40 ]; do
    printf '__label__sport football match goal team %s\n' $i >>"$T/ml.txt"
    printf '__label__food pizza pasta cheese dinner %s\n' $i >>"$T/ml.txt"
    printf '__label__food __label__sport stadium pizza football cheese %s\n' $i >>"$T/ml.txt"
    i=$((i + 1))
done
run train "$T/ml.txt" -o "$T/ml.tcat" --models linear --trials 2 --threads 1
expect_rc "train multi-label" 0
expect_err_has "train multi-label: says so" "multi-label"
input 'football goal team\npizza pasta\npizza football stadium cheese\n'
run predict "$T/ml.tcat"
expect_rc "predict multi-label" 0
expect_lines "predict multi-label: one line per document" 3
if sed -n 1p "$T/out" | grep -q '^sport	[0-9.]*$'; then ok; else fail "predict multi-label: line 1 is '$(sed -n 1p "$T/out")'"; fi
if sed -n 2p "$T/out" | grep -q '^food	[0-9.]*$'; then ok; else fail "predict multi-label: line 2 is '$(sed -n 2p "$T/out")'"; fi
if sed -n 3p "$T/out" | grep -Eq '^(food	[0-9.]*	sport|sport	[0-9.]*	food)	[0-9.]*$'; then ok; else fail "predict multi-label: line 3 is '$(sed -n 3p "$T/out")', expected both labels"; fi
run predict "$T/ml.tcat" --format json
if sed -n 3p "$T/out" | grep -q '"labels":\[{"label":"[a-z]*","prob":[0-9.]*},{"label"'; then ok; else fail "predict multi-label json: '$(sed -n 3p "$T/out")'"; fi
run predict "$T/ml.tcat" --proba
if sed -n 1p "$T/out" | grep -q '^food	[0-9.]*	sport	[0-9.]*$'; then ok; else fail "predict multi-label --proba: '$(sed -n 1p "$T/out")'"; fi
run eval "$T/ml.tcat" "$T/ml.txt"
expect_rc "eval multi-label" 0
expect_out_has "eval multi-label: exact match" "exact match       1.0000"
run eval "$T/ml.tcat" "$T/ml.txt" --json
if grep -q '"multilabel": *true' "$T/out" && ! grep -q '"confusion"' "$T/out"; then ok; else fail "eval --json multi-label: $(head -c 200 "$T/out")"; fi
run info "$T/ml.tcat"
expect_out_has "info multi-label: thresholds" "(threshold "
# --multilabel on data with one label each, and a model that disagrees
# with itself is refused
run train "$T/train.tsv" -o "$T/ml1.tcat" --models linear --trials 1 --multilabel
expect_rc "train --multilabel on single labels" 0
run info "$T/ml1.tcat"
expect_out_has "info: --multilabel model has thresholds" "(threshold "

# ---- budget and memory limits ---------------------------------------------------------------

# a budget too short for any candidate: still a model, fitted on a sample,
# and said so
run train "$T/train.tsv" -o "$T/tiny.tcat" --time 0.001
expect_rc "train --time 0.001" 0
expect_err_has "train --time 0.001: says it sampled" "fitted on a sample"
input 'football goal\n'
run predict "$T/tiny.tcat"
expect_rc "predict with the sampled model" 0
# a memory cap nothing fits under: a usage error naming the cap
run train "$T/train.tsv" -o "$T/x.tcat" --max-memory 1K
expect_rc "train --max-memory 1K" 2
expect_err_has "train --max-memory 1K: says why" "nothing fits in the memory allowed"
run train "$T/train.tsv" -o "$T/x.tcat" --max-memory 12X
expect_usage "train --max-memory 12X"
run train "$T/train.tsv" -o "$T/x.tcat" --max-memory 2G --trials 2
expect_rc "train --max-memory 2G" 0

# --keep-case: "US" (the country) and "us" (the pronoun) are two words,
# and the model keeps the setting for predict; folded, they are one
: >"$T/case.tsv"
i=0
while [ $i -lt 12 ]; do
    printf 'place\tUS %s\nperson\tus %s\n' $i $i >>"$T/case.tsv"
    i=$((i + 1))
done
run train "$T/case.tsv" -o "$T/case.tcat" --keep-case --models linear --params '{"min_df":1}' -q
expect_rc "train --keep-case" 0
input 'US\nus\n'
run predict "$T/case.tcat"
if [ "$(cut -f1 "$T/out" | tr '\n' ' ')" = "place person " ]; then ok; else
    fail "predict with a --keep-case model: '$(tr '\n' '|' <"$T/out")'"; fi
run info "$T/case.tcat"
expect_out_has "info: a --keep-case model says casefold off" "casefold off"
run train "$T/case.tsv" -o "$T/fold.tcat" --models linear --params '{"min_df":1}' -q
input 'US\nus\n'
run predict "$T/fold.tcat"
if [ "$(cut -f1 "$T/out" | sort -u | wc -l)" -eq 1 ]; then ok; else
    fail "predict with a folding model tells US from us: '$(tr '\n' '|' <"$T/out")'"; fi

# ---- the end --------------------------------------------------------------------------------

finish
