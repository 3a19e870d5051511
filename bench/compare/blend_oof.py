#!/usr/bin/python3
"""bench/compare/blend_oof.py — what does a network add beside a linear
model, out of fold and on test? The question behind putting networks in
the ensemble on the small corpora where the margin is short.

    /usr/bin/python3 bench/compare/blend_oof.py [CORPUS ...] [--shared DIR]
        [--tcat ./tcat] [--nnbench build/bench/nnbench] [--folds 5]
        [--linear JSON] [--net-family cnn] [--net JSON] [--threads 2]

For each corpus (default mpqa chnsenticorp; DIR/corpora/NAME):
  - out of fold: train.tsv and dev.tsv pooled, split into FOLDS stratified
    folds (seed 1); each fold is predicted by the linear setting (`tcat
    train --models linear --params`, refitted on the other folds) and by the
    network (nnbench on the other folds, 10% of them held out for its early
    stopping), as the search does;
  - test: both fitted on train.tsv (the network stopping on dev.tsv) and
    predicting test.tsv.
Each system's class probabilities (`tcat predict --proba`, `nnbench
--proba`) are blended as the weighted mean w * linear + network, w = 1 and
2; every prediction is scored by ../shared/peers/score.py's macro-F1.
Prints one table row per corpus and where: linear, network, the blends.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

NET = {"dim": 100, "optimizer": "adam", "lr": 0.003, "patience": 2, "bag": 3}
LINEAR = {"max_features": 300000, "word_ngrams": 2, "char_min": 2, "char_max": 5,
          "min_df": 2, "learner": "svm", "C": 1}


def read(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t", 1) for line in f if line.strip()]


def write(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.writelines("%s\t%s\n" % (y, x) for y, x in rows)


def probs(path):
    """Rows of {label: p} from label<TAB>p<TAB>... lines."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            out.append({c[i]: float(c[i + 1]) for i in range(0, len(c) - 1, 2)})
    return out


def stratified_folds(rows, k, seed):
    rng = random.Random(seed)
    by = {}
    for i, (y, _) in enumerate(rows):
        by.setdefault(y, []).append(i)
    fold = [0] * len(rows)
    at = 0
    for y in sorted(by):
        idx = by[y]
        rng.shuffle(idx)
        for i in idx:
            fold[i] = at % k
            at += 1
    return fold


def texts(d, test):
    """The documents both systems predict, written once per folder: test.tsv
    (for nnbench) and test.txt (its texts, for tcat predict)."""
    write(d + "/test.tsv", test)
    with open(d + "/test.txt", "w", encoding="utf-8") as f:
        f.writelines(x + "\n" for _, x in test)


def linear(a, d, train):
    """The linear setting fitted on train: its probabilities on d's texts."""
    write(d + "/lin.tsv", train)
    setting = LINEAR if a.linear is None else json.loads(a.linear)
    subprocess.run([a.tcat, "train", d + "/lin.tsv", "-o", d + "/lin.tcat", "--models", "linear",
                    "--params", json.dumps(setting), "--threads", str(a.threads), "-q"],
                   check=True)
    with open(d + "/test.txt", encoding="utf-8") as fin, open(d + "/lin.p", "w") as fout:
        subprocess.run([a.tcat, "predict", "--proba", d + "/lin.tcat"], stdin=fin,
                       stdout=fout, check=True)
    return probs(d + "/lin.p")


def network(a, d, train, dev):
    """The network fitted on train, stopping on dev: its probabilities on d's
    texts."""
    write(d + "/net.tsv", train)
    write(d + "/netdev.tsv", dev)
    subprocess.run([a.nnbench, a.net_family, a.net or json.dumps(NET), d + "/net.tsv",
                    d + "/netdev.tsv", d + "/test.tsv", "--threads", str(a.threads), "--seed",
                    "1", "--proba", d + "/net.p"], check=True, stdout=subprocess.DEVNULL)
    return probs(d + "/net.p")


def score(shared, gold, pred, tmp):
    write(tmp + "/gold.tsv", gold)
    with open(tmp + "/pred.txt", "w", encoding="utf-8") as f:
        f.writelines(p + "\n" for p in pred)
    out = subprocess.run([sys.executable, shared + "/peers/score.py", tmp + "/gold.tsv",
                          tmp + "/pred.txt"], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[0])


def blends(shared, gold, lin, net, tmp):
    argmax = lambda r: max(r, key=r.get)
    row = [score(shared, gold, [argmax(r) for r in lin], tmp),
           score(shared, gold, [argmax(r) for r in net], tmp)]
    for w in (1, 2):
        mix = [{k: w * l[k] + n.get(k, 0) for k in l} for l, n in zip(lin, net)]
        row.append(score(shared, gold, [argmax(r) for r in mix], tmp))
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpora", nargs="*", default=["mpqa", "chnsenticorp"])
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--tcat", default="./tcat")
    ap.add_argument("--nnbench", default="build/bench/nnbench")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--linear", default=None, help="the linear setting, JSON")
    ap.add_argument("--net-family", default="cnn")
    ap.add_argument("--net", default=None, help="the network's setting, JSON")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    if not os.path.isdir(a.shared + "/corpora"):
        raise SystemExit("blend_oof: no %s/corpora (the corpora are not here)" % a.shared)
    print("| corpus | where | linear | %s | blend 1:1 | blend 2:1 | blend − linear (best w) |"
          % a.net_family)
    print("|---|---|---:|---:|---:|---:|---:|")
    for name in a.corpora:
        cdir = a.shared + "/corpora/" + name
        train, dev, test = (read(cdir + "/%s.tsv" % s) for s in ("train", "dev", "test"))
        with tempfile.TemporaryDirectory(prefix="blend-") as tmp:
            pool = train + dev
            fold = stratified_folds(pool, a.folds, 1)
            gold, lin, net = [], [], []
            for f in range(a.folds):
                fit = [r for r, k in zip(pool, fold) if k != f]
                held = [r for r, k in zip(pool, fold) if k == f]
                rng = random.Random(100 + f)
                inner = set(rng.sample(range(len(fit)), len(fit) // 10))
                d = tmp + "/f%d" % f
                os.mkdir(d)
                # the linear model fits all of fit; the network stops on a
                # tenth of it, as the search's fits do
                texts(d, held)
                lin += linear(a, d, fit)
                net += network(a, d, [r for i, r in enumerate(fit) if i not in inner],
                               [r for i, r in enumerate(fit) if i in inner])
                gold += held
            rows = [("out of fold (%d-fold, %d docs)" % (a.folds, len(pool)),
                     blends(a.shared, gold, lin, net, tmp))]
            d = tmp + "/test"
            os.mkdir(d)
            texts(d, test)
            l, n = linear(a, d, train), network(a, d, train, dev)
            rows.append(("test (%d docs)" % len(test), blends(a.shared, test, l, n, tmp)))
        for where, r in rows:
            print("| %s | %s | %.4f | %.4f | %.4f | %.4f | %+.2f |"
                  % (name, where, r[0], r[1], r[2], r[3], 100 * (max(r[2], r[3]) - r[0])))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
