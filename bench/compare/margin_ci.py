#!/usr/bin/python3
"""bench/compare/margin_ci.py — how sure is a margin? A paired bootstrap of
tcat's test macro-F1 minus a scikit-learn peer's, on the same test documents.

    /usr/bin/python3 bench/compare/margin_ci.py CORPUS_DIR MODEL.tcat \
        --analyzer char_wb --ngrams 2 5 --C 1 [--tcat ./tcat] [--rounds 2000]

The peer is the bench/compare one (../shared/peers/anchors.py's settings):
TfidfVectorizer(analyzer, ngram_range, sublinear_tf=True) + LinearSVC(C),
fitted on CORPUS_DIR/train.tsv, with the C anchors.py chose on dev (given
here). tcat's labels are the first column of `tcat predict MODEL` on the
test texts. Both are scored on CORPUS_DIR/test.tsv; the test documents are
resampled with replacement ROUNDS times (seed 1), the same resample for
both systems, and the margin's 2.5th and 97.5th percentiles, standard
deviation (its standard error) and the share of resamples where it
reaches one point are printed.
"""
import argparse
import subprocess

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.svm import LinearSVC


def read(path):
    labels, texts = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            label, text = line.rstrip("\n").split("\t", 1)
            labels.append(label)
            texts.append(text)
    return labels, texts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("model")
    ap.add_argument("--analyzer", default="char_wb", choices=["word", "char_wb"])
    ap.add_argument("--ngrams", type=int, nargs=2, default=[2, 5])
    ap.add_argument("--C", type=float, default=1.0)
    ap.add_argument("--tcat", default="./tcat")
    ap.add_argument("--rounds", type=int, default=2000)
    a = ap.parse_args()

    ytr, xtr = read(a.corpus + "/train.tsv")
    yte, xte = read(a.corpus + "/test.tsv")
    vec = TfidfVectorizer(analyzer=a.analyzer, ngram_range=tuple(a.ngrams), sublinear_tf=True)
    peer = LinearSVC(C=a.C).fit(vec.fit_transform(xtr), ytr).predict(vec.transform(xte))
    out = subprocess.run([a.tcat, "predict", a.model], input="\n".join(xte) + "\n",
                         capture_output=True, text=True, check=True).stdout
    ours = [line.split("\t")[0] for line in out.splitlines()]
    if len(ours) != len(yte):
        raise SystemExit("tcat predicted %d lines for %d test documents" % (len(ours), len(yte)))

    y, p, q = np.array(yte), np.array(ours), np.array(peer)
    def f1(idx, pred):
        return f1_score(y[idx], pred[idx], average="macro")
    every = np.arange(len(y))
    margin = f1(every, p) - f1(every, q)
    rng = np.random.default_rng(1)
    diffs = np.empty(a.rounds)
    for r in range(a.rounds):
        idx = rng.integers(0, len(y), len(y))
        diffs[r] = f1(idx, p) - f1(idx, q)
    print("%s: tcat %.4f, %s %d-%d C=%g %.4f, margin %+.2f points; paired bootstrap (%d "
          "rounds): 95%% interval [%+.2f, %+.2f], standard error %.2f, margin >= 1 point in "
          "%.0f%% of resamples" % (a.corpus.rstrip("/").split("/")[-1], f1(every, p), a.analyzer,
                                   a.ngrams[0], a.ngrams[1], a.C, f1(every, q), 100 * margin,
                                   a.rounds, 100 * np.percentile(diffs, 2.5),
                                   100 * np.percentile(diffs, 97.5), 100 * diffs.std(),
                                   100 * np.mean(diffs >= 0.01)))


if __name__ == "__main__":
    main()
