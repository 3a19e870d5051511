#!/bin/sh
# tcat's main job, end to end, on a real corpus built from the Debian archive
# alone: language identification of fortune cookies in eleven languages.
#
#   sh scripts/demo.sh ./tcat          (what `make demo` runs)
#
# 1. builds build/demo/fortunes/{train,dev,test}.tsv from the fortunes-*
#    packages (scripts/fortunes-corpus.sh; installs them when missing; skipped
#    when the corpus is already there: remove build/demo to rebuild it);
# 2. trains a model under a small time budget (DEMO_TIME, default 1m);
# 3. scores it on the held-out test split; 4. describes the model file;
# 5. classifies a few sentences written for this demo, through a pipe.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: sh scripts/demo.sh TCAT    (the path of the tcat binary)" >&2
    exit 2
fi
case $1 in
    */*) tcat=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") ;;
    *)   tcat=$(command -v "$1" || true) ;;
esac
if [ -z "$tcat" ] || [ ! -x "$tcat" ]; then
    echo "demo: '$1' is not an executable tcat binary (run make first)" >&2
    exit 2
fi
cd "$(dirname "$0")/.."          # the project root: build/ lives there

budget=${DEMO_TIME:-1m}
corpus=build/demo/fortunes
model=build/demo/langid.tcat

step() { printf '\n==> %s\n' "$1"; }
run()  { printf '$ %s\n' "$*"; "$@"; }

if [ -s "$corpus/train.tsv" ] && [ -s "$corpus/dev.tsv" ] && [ -s "$corpus/test.tsv" ]; then
    step "Corpus already built in $corpus (remove build/demo to rebuild it)."
    printf '%s\n' "$(cut -f1 "$corpus/train.tsv" | sort | uniq -c | awk '{ printf "%s %s  ", $2, $1 }')(training documents per language)"
else
    step "Building a language-identification corpus from Debian's fortunes-* packages into $corpus."
    run sh scripts/fortunes-corpus.sh "$corpus"
fi

step "Training: searching models for $budget on train.tsv, choosing by macro-F1 on dev.tsv."
run "$tcat" train "$corpus/train.tsv" --dev "$corpus/dev.tsv" --time "$budget" --seed 13 -o "$model"

step "Evaluating the model on the held-out test split it has never seen."
run "$tcat" eval "$model" "$corpus/test.tsv"

step "What the model file holds."
run "$tcat" info "$model"

step "Classifying new sentences (not from the corpus), one per line, through a pipe."
samples='The last train to the airport leaves at midnight, so we should hurry.
Morgen früh fahre ich mit dem Fahrrad zur Arbeit, wenn es nicht regnet.
Stasera andiamo a mangiare una pizza con i nostri amici in centro.
Mi hermana vive en una casa pequeña cerca del mar desde hace diez años.
Amanhã vou ao mercado comprar pão, queijo e frutas para o almoço.
W przyszłym tygodniu jedziemy nad morze, jeśli pogoda będzie dobra.
Včera jsme celý den pracovali na zahradě a večer jsme byli unavení.
Вчера вечером мы долго гуляли по парку и разговаривали о книгах.
Утре ще ходим на планина с приятели, ако времето е хубаво.
Mi lernas Esperanton ĉar mi volas paroli kun homoj el la tuta mondo.
今天下午我们去图书馆看书，然后一起吃晚饭。'
preds=build/demo/predictions.tsv
printf '$ %s\n' "printf '%s\\n' \"\$samples\" | $tcat predict $model"
printf '%s\n' "$samples" | "$tcat" predict "$model" > "$preds"
# each answer (label<TAB>probability) next to the line it classifies
printf '%s\n' "$samples" | paste "$preds" -

printf '\nDone. Try your own: %s\n' "echo 'Das Wetter ist heute schön.' | $tcat predict $model"
