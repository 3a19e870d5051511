#!/usr/bin/python3
"""bench/neural: tcat's neural architectures in PyTorch, for the speed comparison.

    torchbench.py --tcat ./tcat --train TRAIN.tsv --arch cnn|gru|lstm
                  [--epochs 2] [--seed 1] [--dense] [--dev DEV.tsv]
                  [--test TEST.tsv --pred OUT [--patience 5]] [--keep-case]

Trains the architecture of pipelines/cnn.h or pipelines/rnn.h (their
defaults) on one thread for a fixed number of epochs and prints one JSON line
with the training time and sentences per second. Called by ./run (see there);
runnable alone.

With --test (and --dev), it is an accuracy reference instead, with the
protocol of build/bench/nnbench: after each epoch the dev macro-F1; the best
epoch's weights are kept; training stops after --patience epochs without a
better one or after --epochs; TEST is predicted with the kept weights and its
labels written to OUT, one per line, for ../shared/peers/score.py.
--keep-case tokenizes with `tcat tokenize --keep-case` (Kim keeps TREC's case).

Same input as tcat: the text column of TRAIN goes through `tcat tokenize
--keep-punct` (tcat's default tokenizer keeping punctuation tokens, which the
cnn and rnn families read by default: their "punct"), the vocabulary is built as
embeddings/wordids.h builds it (training words seen >= min_count times, at
most max_words, one row for unknown words), documents are cut to max_len
tokens and an empty one is one unknown token. Batches: `batch` documents in a
random order each epoch (the last one shorter), padded to the longest in the
batch (the CNN: at least the widest filter); softmax cross-entropy averaged
over the batch.

  cnn   (Kim 2014, tcat's cnn defaults) embeddings 300, uniform [-0.25,
        0.25); wide convolution: 4 (the widest filter - 1) zero rows before
        and after each document's tokens, read as part of it (Kim's padding,
        tcat's "wide"); Conv1d of widths 3, 4, 5 x 100 maps; per map the max
        over the windows inside the padded document, then ReLU; dropout
        0.5; linear; Adadelta lr 1.0 rho 0.95 eps 1e-6; output rows held to
        L2 norm 3; batch 50; min_count 1, max_len 400.
  gru / lstm  (tcat's rnn defaults) embeddings 128; bidirectional GRU or LSTM,
        hidden 128 per direction, over packed sequences (each document exactly
        its own tokens, as embeddings/recurrent.h); max- and mean-pooling over
        time concatenated (512 features); dropout 0.3; linear; Adam lr 0.002;
        global gradient norm clipped to 5; batch 32; min_count 2, max_len 200.

Embedding rows: by default, like tcat, only the rows a batch touched move
("lazy" updates: sparse gradients; SparseAdam for the RNNs, the same
Adadelta restricted to the touched rows for the CNN). --dense trains the
embedding table as any other parameter (the whole table moves every step,
as Kim's Theano code and an idiomatic PyTorch model do).

Timing: torch.set_num_threads(1) (and OMP/OpenBLAS at one thread through the
environment that ./run sets); the clock runs over the epochs only (batching,
forward, backward, optimiser steps), after tokenizing and building the
vocabulary. With --dev, accuracy on DEV after training (not timed), as a
check that the model learns.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import time

ARCH = {
    "cnn": dict(dim=300, min_count=1, max_words=200000, max_len=400, batch=50,
                widths=(3, 4, 5), maps=100, dropout=0.5, lr=1.0, max_norm=3.0),
    "gru": dict(dim=128, min_count=2, max_words=200000, max_len=200, batch=32,
                hidden=128, dropout=0.3, lr=0.002, clip=5.0),
    "lstm": dict(dim=128, min_count=2, max_words=200000, max_len=200, batch=32,
                 hidden=128, dropout=0.3, lr=0.002, clip=5.0),
}


def read_tsv(path, tcat, keep_case=False):
    labels, texts = [], []
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            line = line.rstrip("\n")
            lab, _, text = line.partition("\t")
            labels.append(lab)
            texts.append(text)
    data = ("\n".join(texts) + "\n").encode("utf-8", "surrogateescape")
    cmd = [tcat, "tokenize", "-q", "--keep-punct"] + (["--keep-case"] if keep_case else [])
    p = subprocess.run(cmd, input=data, capture_output=True, check=True)
    toks = [l.split(" ") if l else [] for l in p.stdout.decode("utf-8", "replace").split("\n")]
    if toks and toks[-1] == [] and len(toks) == len(texts) + 1:
        toks.pop()
    if len(toks) != len(texts):
        raise SystemExit("torchbench: tcat tokenize gave %d lines for %d documents"
                         % (len(toks), len(texts)))
    return labels, toks


def vocab_of(docs, min_count, max_words):
    cnt = collections.Counter(t for d in docs for t in d)
    words = [w for w, c in cnt.items() if c >= min_count]
    if max_words and len(words) > max_words:
        words.sort(key=lambda w: -cnt[w])
        words = words[:max_words]
    return {w: i for i, w in enumerate(words)}


def ids_of(docs, vocab, max_len):
    unk = len(vocab)
    out = []
    for d in docs:
        ids = [vocab.get(t, unk) for t in d[:max_len]]
        out.append(ids or [unk])
    return out


def build(torch, arch, nrows, K, dense):
    nn = torch.nn
    a = ARCH[arch]
    pad = nrows  # one more row, zero, never trained

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(nrows + 1, a["dim"], padding_idx=pad, sparse=not dense)
            with torch.no_grad():
                self.emb.weight[:nrows].uniform_(-0.25, 0.25)
            self.convs = nn.ModuleList(nn.Conv1d(a["dim"], a["maps"], w) for w in a["widths"])
            self.drop = nn.Dropout(a["dropout"])
            self.out = nn.Linear(a["maps"] * len(a["widths"]), K)

        def forward(self, x, lens):
            e = self.emb(x).transpose(1, 2)  # B x D x T
            T = x.shape[1]
            pos = torch.arange(T, device=x.device)
            feats = []
            for w, conv in zip(a["widths"], self.convs):
                s = conv(e)  # B x m x (T - w + 1)
                npos = torch.clamp(lens, min=w) - w + 1
                mask = pos[: T - w + 1].unsqueeze(0) >= npos.unsqueeze(1)
                s = s.masked_fill(mask.unsqueeze(1), float("-inf"))
                feats.append(torch.relu(s.max(dim=2).values))
            return self.out(self.drop(torch.cat(feats, 1)))

    class RNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(nrows + 1, a["dim"], padding_idx=pad, sparse=not dense)
            cell = nn.GRU if arch == "gru" else nn.LSTM
            self.rnn = cell(a["dim"], a["hidden"], batch_first=True, bidirectional=True)
            self.drop = nn.Dropout(a["dropout"])
            self.out = nn.Linear(4 * a["hidden"], K)

        def forward(self, x, lens):
            pk = nn.utils.rnn.pack_padded_sequence(self.emb(x), lens, batch_first=True,
                                                   enforce_sorted=False)
            y, _ = self.rnn(pk)
            y, _ = nn.utils.rnn.pad_packed_sequence(y, batch_first=True)  # B x S x 2H
            S = y.shape[1]
            mask = (torch.arange(S).unsqueeze(0) >= lens.unsqueeze(1)).unsqueeze(2)
            mx = y.masked_fill(mask, float("-inf")).max(dim=1).values
            mean = y.sum(dim=1) / lens.unsqueeze(1).to(y.dtype)
            return self.out(self.drop(torch.cat([mx, mean], 1)))

    return (CNN() if arch == "cnn" else RNN()), pad


def macro_f1(classes, gold, pred):
    """The unweighted mean of the classes' F1, as search/metrics.h."""
    f1s = []
    for c in classes:
        tp = sum(g == c and p == c for g, p in zip(gold, pred))
        fp = sum(g != c and p == c for g, p in zip(gold, pred))
        fn = sum(g == c and p != c for g, p in zip(gold, pred))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s)


class LazyAdadelta:
    """Adadelta (rho 0.95, eps 1e-6, as embeddings/optim.h) on the rows of a
    sparse gradient only: a row's state moves only when it has a gradient."""

    def __init__(self, torch, weight, lr=1.0, rho=0.95, eps=1e-6):
        self.t, self.w, self.lr, self.rho, self.eps = torch, weight, lr, rho, eps
        self.eg = torch.zeros_like(weight)
        self.ed = torch.zeros_like(weight)

    def step(self):
        g = self.w.grad.coalesce()
        idx, v = g.indices()[0], g.values()
        with self.t.no_grad():
            eg = self.eg.index_select(0, idx).mul_(self.rho).addcmul_(v, v, value=1 - self.rho)
            ed = self.ed.index_select(0, idx)
            d = (ed + self.eps).sqrt_().div_((eg + self.eps).sqrt_()).mul_(v)
            ed.mul_(self.rho).addcmul_(d, d, value=1 - self.rho)
            self.eg.index_copy_(0, idx, eg)
            self.ed.index_copy_(0, idx, ed)
            self.w.index_add_(0, idx, d, alpha=-self.lr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcat", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--dev")
    ap.add_argument("--arch", choices=sorted(ARCH), required=True)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dense", action="store_true")
    ap.add_argument("--test")
    ap.add_argument("--pred")
    ap.add_argument("--patience", type=int, default=5)
    ap.add_argument("--keep-case", action="store_true")
    o = ap.parse_args()
    if o.test and not (o.dev and o.pred):
        ap.error("--test needs --dev (early stopping) and --pred (the test labels)")

    import numpy as np
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(o.seed)
    rng = np.random.default_rng(o.seed)
    a = ARCH[o.arch]

    labels, docs = read_tsv(o.train, o.tcat, o.keep_case)
    names = sorted(set(labels))
    lid = {n: i for i, n in enumerate(names)}
    y_all = torch.tensor([lid[l] for l in labels], dtype=torch.long)
    vocab = vocab_of(docs, a["min_count"], a["max_words"])
    ids = ids_of(docs, vocab, a["max_len"])
    nrows = len(vocab) + 1
    model, pad = build(torch, o.arch, nrows, len(names), o.dense)
    emb = model.emb.weight
    dense_params = [p for n, p in model.named_parameters() if o.dense or n != "emb.weight"]
    if o.arch == "cnn":
        opt = torch.optim.Adadelta(dense_params, lr=a["lr"], rho=0.95, eps=1e-6)
        opt_e = None if o.dense else LazyAdadelta(torch, emb, lr=a["lr"])
    else:
        opt = torch.optim.Adam(dense_params, lr=a["lr"])
        opt_e = None if o.dense else torch.optim.SparseAdam([emb], lr=a["lr"])
    lossf = torch.nn.CrossEntropyLoss()
    min_T = max(a.get("widths", (1,)))
    P = min_T - 1 if o.arch == "cnn" else 0  # the cnn's zero rows on each side
    n, B = len(ids), a["batch"]

    def batch_of(sel, ids=ids):
        lens = [len(ids[i]) + 2 * P for i in sel]
        T = max(max(lens), min_T)
        x = torch.full((len(sel), T), pad, dtype=torch.long)
        for r, i in enumerate(sel):
            x[r, P: P + len(ids[i])] = torch.tensor(ids[i], dtype=torch.long)
        return x, torch.tensor(lens, dtype=torch.long)

    def predict(pids):
        model.eval()
        out = []
        with torch.no_grad():
            for s in range(0, len(pids), 256):
                x, lens = batch_of(range(s, min(s + 256, len(pids))), pids)
                out += model(x, lens).argmax(1).tolist()
        model.train()
        return [names[p] for p in out]

    if o.dev:
        dl, dd = read_tsv(o.dev, o.tcat, o.keep_case)
        dids = ids_of(dd, vocab, a["max_len"])
    best = {"f1": -1.0, "epoch": 0, "state": None}
    model.train()
    losses, dev_f1 = [], []
    t0 = time.perf_counter()
    for ep in range(o.epochs):
        order = rng.permutation(n)
        total = 0.0
        for s in range(0, n, B):
            sel = order[s: s + B]
            x, lens = batch_of(sel)
            model.zero_grad(set_to_none=True)
            loss = lossf(model(x, lens), y_all[sel])
            loss.backward()
            if "clip" in a:  # the global norm over every gradient, embedding rows included
                if emb.grad is not None and emb.grad.is_sparse:
                    emb.grad = emb.grad.coalesce()
                sq = sum(float(p.grad.pow(2).sum()) if not p.grad.is_sparse
                         else float(p.grad.values().pow(2).sum())
                         for p in model.parameters() if p.grad is not None)
                norm = sq ** 0.5
                if norm > a["clip"]:
                    k = a["clip"] / norm
                    for p in model.parameters():
                        if p.grad is not None:
                            p.grad.mul_(k)
            opt.step()
            if opt_e is not None:
                opt_e.step()
            if "max_norm" in a:
                with torch.no_grad():
                    w = model.out.weight
                    w.copy_(torch.renorm(w, 2, 0, a["max_norm"]))
            total += float(loss) * len(sel)
        losses.append(total / n)
        if o.test:  # early stopping on dev macro-F1, as nnbench
            f1 = macro_f1(names, dl, predict(dids))
            dev_f1.append(f1)
            if f1 > best["f1"]:
                best = {"f1": f1, "epoch": ep + 1,
                        "state": {k: v.detach().clone() for k, v in model.state_dict().items()}}
            elif ep + 1 - best["epoch"] >= o.patience:
                break
    secs = time.perf_counter() - t0
    run = len(losses)

    res = {"arch": o.arch, "embedding_updates": "dense" if o.dense else "lazy rows",
           "epochs": o.epochs, "train_docs": n, "vocabulary": len(vocab), "seconds": secs,
           "sentences_per_second": n * run / secs, "loss_per_epoch": losses,
           "torch": torch.__version__, "threads": torch.get_num_threads()}
    if o.test:
        model.load_state_dict(best["state"])
        _, td = read_tsv(o.test, o.tcat, o.keep_case)
        with open(o.pred, "w", encoding="utf-8") as f:
            f.writelines(p + "\n" for p in predict(ids_of(td, vocab, a["max_len"])))
        res.update(epochs_best=best["epoch"], epochs_run=run, fit_seconds=secs,
                   dev_f1=best["f1"], dev_f1_per_epoch=dev_f1)
    elif o.dev:
        pred = predict(dids)
        res["dev_accuracy"] = sum(p == g for p, g in zip(pred, dl)) / len(dl)
    print(json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
