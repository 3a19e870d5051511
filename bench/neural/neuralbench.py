#!/usr/bin/python3
"""bench/neural: tcat's CNN and recurrent families against Kim (2014) and PyTorch (see ./run).

Called by bench/neural/run, which checks the corpora, installs the peers and
builds tcat and build/bench/nnbench. Runs everything, prints the tables and
writes the bench/neural block of bench/RESULTS.md.
"""
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import argparse

ALL_CORPORA = "mr sst1 sst2 subj trec cr mpqa".split()
# Kim (2014), Table 2, test accuracy: CNN-rand, CNN-non-static (word2vec, Google News)
KIM = {"mr": (76.1, 81.5), "sst1": (45.0, 48.0), "sst2": (82.7, 87.2), "subj": (89.6, 93.4),
       "trec": (91.2, 93.6), "cr": (79.8, 84.3), "mpqa": (83.4, 89.5)}
RAND_TOL = 1.5  # points: the goal for CNN-rand
# accuracy settings: (key, name, family, params, more nnbench arguments)
CONFIGS = [
    ("rand", "cnn, random init (CNN-rand)", "cnn", {}, []),
    ("skipgram", "cnn, in-domain skip-gram vectors, non-static", "cnn", {"init": "skipgram"}, []),
    ("rnn", "rnn defaults (bidirectional GRU)", "rnn", {}, []),
]
# speed: (key, tcat family, tcat params, torchbench --arch)
SPEED = [("cnn", "cnn", {}, "cnn"), ("rnn-gru", "rnn", {"cell": "gru"}, "gru"),
         ("rnn-lstm", "rnn", {"cell": "lstm"}, "lstm")]
BEGIN = "<!-- bench/neural: begin"
END = "<!-- bench/neural: end -->"


def say(msg):
    print("bench/neural: " + msg, file=sys.stderr, flush=True)


def env_list(name, default):
    v = os.environ.get(name, "").replace(",", " ").split()
    return v or default


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def jdump(p):
    return json.dumps(p, separators=(",", ":"))


def run_json(cmd, env=None):
    """Runs cmd; returns (its last stdout line as JSON, None) or (None, error)."""
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        err = (p.stderr.strip().splitlines() or ["?"])[-1]
        return None, "exit %d: %s" % (p.returncode, err[:300])
    try:
        return json.loads(p.stdout.strip().splitlines()[-1]), None
    except (ValueError, IndexError) as e:
        return None, "bad output (%s): %r" % (e, p.stdout[-200:])


def score(scorer, gold, pred):
    p = subprocess.run([sys.executable, scorer, gold, pred], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("score.py: " + (p.stderr.strip() or p.stdout.strip()))
    m, a = p.stdout.split()
    return float(m), float(a)


def num(x, nd=0):
    if x is None:
        return "—"
    return ("%%.%df" % nd) % x


def ratio(x):
    if x is None:
        return "—"
    return "%.2f" % x


def pts(x):
    return "—" if x is None else "%+.1f" % x


def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


# ---- speed -------------------------------------------------------------------


def speed(a, w, cdir, epochs, reps):
    """tcat (nnbench, 1 and 2 threads) and PyTorch (lazy and dense embedding
    updates) on the same corpus, fixed epochs, interleaved, best of reps."""
    train, dev = os.path.join(cdir, "train.tsv"), os.path.join(cdir, "dev.tsv")
    tenv = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = {"_probe": probe(a, train)}
    for key, fam, params, arch in SPEED:
        p = dict(params, epochs=epochs, patience=epochs)
        runs = {"tcat1": [], "tcat2": [], "torch": [], "torch_dense": []}
        errors = []
        for rep in range(reps):
            for sysname in ("tcat1", "torch", "torch_dense", "tcat2"):
                if sysname.startswith("tcat"):
                    th = sysname[-1]
                    pred = os.path.join(w, "speed_%s_%s.pred" % (key, sysname))
                    cmd = [a.nnbench, fam, jdump(p), train, "-", dev, "--threads", th,
                           "--seed", "1", "--pred", pred]
                    say("speed %s rep %d: tcat --threads %s" % (key, rep + 1, th))
                    r, err = run_json(cmd)
                    if r:
                        r["dev_f1"], r["dev_acc"] = score(a.scorer, dev, pred)
                else:
                    cmd = [sys.executable, a.torchbench, "--tcat", a.tcat, "--train", train,
                           "--dev", dev, "--arch", arch, "--epochs", str(epochs), "--seed", "1"]
                    if sysname == "torch_dense":
                        cmd.append("--dense")
                    say("speed %s rep %d: PyTorch%s" % (key, rep + 1,
                                                         " (dense)" if "dense" in sysname else ""))
                    r, err = run_json(cmd, tenv)
                if err:
                    errors.append("%s: %s" % (sysname, err))
                    say("speed %s: %s FAILED: %s" % (key, sysname, err))
                else:
                    runs[sysname].append(r)
        best = {k: max(v, key=lambda r: r["sentences_per_second"]) if v else None
                for k, v in runs.items()}
        sps = {k: (b["sentences_per_second"] if b else None) for k, b in best.items()}
        out[key] = {"best": best, "sps": sps, "all": {k: [r["sentences_per_second"] for r in v]
                                                      for k, v in runs.items()},
                    "errors": errors, "params": p, "arch": arch, "family": fam}
        say("speed %s: tcat %s sent/s, PyTorch %s (dense %s): × %s" % (
            key, num(sps["tcat1"]), num(sps["torch"]), num(sps["torch_dense"]),
            ratio(sps["tcat1"] / sps["torch"] if sps["tcat1"] and sps["torch"] else None)))
    return out


def probe(a, train):
    """How many cores are free: one 1-epoch fit alone, then two at once."""
    cmd = [a.nnbench, "cnn", '{"epochs":1}', train, "-", "-", "--threads", "1"]
    say("probe: one fit alone, then two at once")
    r, err = run_json(cmd)
    if err:
        return None
    ps = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
          for _ in range(2)]
    secs = []
    for p in ps:
        o, _ = p.communicate()
        try:
            secs.append(json.loads(o.strip().splitlines()[-1])["fit_seconds"])
        except (ValueError, IndexError, KeyError):
            return None
    return {"alone": r["fit_seconds"], "pair": sum(secs) / 2}


# ---- accuracy ----------------------------------------------------------------


def accuracy(a, w, corpora, seeds, threads, keep, t0):
    res = {}
    for c in corpora:
        case = ["--keep-case"] if c in keep else []
        cdir = os.path.join(a.corpora_dir, c)
        gold = os.path.join(cdir, "test.tsv")
        for key, name, fam, params, extra in CONFIGS:
            runs = []
            for s in seeds:
                pred = os.path.join(w, "%s_%s_%s.pred" % (c, key, s))
                cmd = [a.nnbench, fam, jdump(params), os.path.join(cdir, "train.tsv"),
                       os.path.join(cdir, "dev.tsv"), gold, "--threads", str(threads),
                       "--seed", str(s), "--pred", pred] + extra + case
                r, err = run_json(cmd)
                if r:
                    try:
                        r["f1"], r["acc"] = score(a.scorer, gold, pred)
                    except (RuntimeError, ValueError) as e:
                        r, err = None, str(e)
                if err:
                    say("%s %s seed %s FAILED: %s" % (c, key, s, err))
                    runs.append({"seed": s, "error": err})
                    continue
                r["seed"] = s
                runs.append(r)
                say("%s %s seed %s: accuracy %.4f macro-F1 %.4f, best epoch %d of %d run, "
                    "fit %.1f s  [%.0f s so far]" % (c, key, s, r["acc"], r["f1"],
                                                    r["epochs_best"], r["epochs_run"],
                                                    r["fit_seconds"], time.time() - t0))
            res[(c, key)] = runs
    return res


def acc_of(runs):
    return mean([r.get("acc") for r in runs])


def sd_of(runs):
    """The sample standard deviation of the runs' accuracies (None under 2)."""
    xs = [r["acc"] for r in runs if r.get("acc") is not None]
    return statistics.stdev(xs) if len(xs) > 1 else None


# ---- the section -------------------------------------------------------------


def git_state(root):
    def g(*args):
        p = subprocess.run(["git", "-C", root] + list(args), capture_output=True, text=True)
        return p.stdout.rstrip("\n") if p.returncode == 0 else ""
    commit = g("rev-parse", "--short", "HEAD").strip() or "unknown"
    st = g("status", "--porcelain")
    if not st:
        return commit + ", clean work tree"
    mod = [l[3:] for l in st.splitlines() if not l.startswith("??")]
    unt = [l[3:] for l in st.splitlines() if l.startswith("??")]
    return "%s, work tree with uncommitted changes (dirty) -- modified: %s; untracked: %s" % (
        commit, " ".join(mod) or "none", " ".join(unt) or "none")


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    mem = "%.0f GiB" % (int(line.split()[1]) / 1048576)
    except OSError:
        pass
    return "%d cores (nproc), %s, %s RAM, %s %s" % (os.cpu_count() or 0, cpu, mem,
                                                   os.uname().sysname, os.uname().release)


def torch_version(sp):
    for k, v in (sp or {}).items():
        if not k.startswith("_") and v["best"]["torch"]:
            return v["best"]["torch"]["torch"]
    return "?"


def pkg_version(name):
    p = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", name], capture_output=True,
                       text=True)
    return p.stdout.strip() or "?"


def probe_md(sp):
    pr = sp.get("_probe") if sp else None
    if not pr:
        return ""
    return ("; free cores, probed before the speed runs: one 1-epoch tcat cnn fit alone took "
            "%.2f s, two at once %.2f s each on average (x %.2f; 1.0 = two idle cores, 2.0 = "
            "one)" % (pr["alone"], pr["pair"], pr["pair"] / pr["alone"]))


def speed_md(sp, epochs, reps, corpus):
    L = ["### Training speed, one core (%s, %d epochs, best of %d, interleaved)" % (
        corpus, epochs, reps), ""]
    L.append("| family | tcat sentences/s | PyTorch, lazy rows | tcat ÷ PyTorch | goal (>= 1) "
             "| PyTorch, dense table | tcat ÷ dense | tcat 2 threads | 2 threads ÷ 1 "
             "| dev accuracy after %d epochs: tcat / PyTorch |" % epochs)
    L.append("|---|---:|---:|---:|---|---:|---:|---:|---:|---|")
    for key, fam, params, arch in SPEED:
        if key not in sp:
            continue
        s, b = sp[key]["sps"], sp[key]["best"]
        x = s["tcat1"] / s["torch"] if s["tcat1"] and s["torch"] else None
        xd = s["tcat1"] / s["torch_dense"] if s["tcat1"] and s["torch_dense"] else None
        x2 = s["tcat2"] / s["tcat1"] if s["tcat2"] and s["tcat1"] else None
        goal = "—" if x is None else "met" if x >= 1 else "**not met**"
        da = "%s / %s" % (num(b["tcat1"]["dev_acc"] * 100, 1) if b["tcat1"] else "—",
                          num(b["torch"]["dev_accuracy"] * 100, 1) if b["torch"] else "—")
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            key, num(s["tcat1"]), num(s["torch"]), ratio(x), goal, num(s["torch_dense"]),
            ratio(xd), num(s["tcat2"]), ratio(x2), da))
    L.append("")
    bits = []
    for key in [k for k in sp if not k.startswith("_")]:
        al = sp[key]["all"]
        bits.append("%s: tcat 1 thread %s, PyTorch %s, dense %s, tcat 2 threads %s" % (
            key, " ".join(num(v) for v in al["tcat1"]), " ".join(num(v) for v in al["torch"]),
            " ".join(num(v) for v in al["torch_dense"]), " ".join(num(v) for v in al["tcat2"])))
        for e in sp[key]["errors"]:
            bits.append("**%s %s failed**" % (key, e))
    L.append("- every repetition, sentences/s: " + "; ".join(bits))
    L.append("")
    return L


def acc_md(res, corpora, seeds):
    multi = len(seeds) > 1
    L = ["### Test accuracy beside Kim (2014), %s" % (
        "mean ± sample standard deviation over seeds %s" % " ".join(seeds) if multi
        else "seed %s" % seeds[0]), ""]
    keys = [k for k, _, _, _, _ in CONFIGS]
    L.append("| corpus | Kim CNN-rand | tcat cnn, random | − Kim | goal (within %.1f) "
             "| Kim CNN-non-static | tcat cnn, skip-gram | − Kim rand | goal (> Kim rand) "
             "| − Kim non-static | tcat rnn (GRU) | − Kim rand |" % RAND_TOL)
    L.append("|---|---:|---:|---:|---|---:|---:|---:|---|---:|---:|---:|")
    cols = {k: [] for k in ["kr", "kn"] + keys}

    def d(x, ref):
        return pts(x - ref if x is not None else None)

    def cell(c, k, x):
        sd = sd_of(res.get((c, k), []))
        return num(x, 1) + (" ± %.1f" % (100 * sd) if sd is not None else "")
    for c in corpora:
        kr, kn = KIM[c]
        v = {k: acc_of(res.get((c, k), [])) for k in keys}
        v = {k: (x * 100 if x is not None else None) for k, x in v.items()}
        cols["kr"].append(kr)
        cols["kn"].append(kn)
        for k in v:
            cols[k].append(v[k])
        r, g = v["rand"], v["skipgram"]
        goal_r = "—" if r is None else "met" if r - kr >= -RAND_TOL else "**not met**"
        goal_g = "—" if g is None else "met" if g > kr else "**not met**"
        L.append("| %s | %.1f | %s | %s | %s | %.1f | %s | %s | %s | %s | %s | %s |" % (
            c, kr, cell(c, "rand", r), d(r, kr), goal_r, kn, cell(c, "skipgram", g), d(g, kr),
            goal_g, d(g, kn), cell(c, "rnn", v["rnn"]), d(v["rnn"], kr)))
    if len(corpora) > 1:
        m = {k: (mean(x) if all(y is not None for y in x) else None) for k, x in cols.items()}
        L.append("| mean | %.1f | %s | %s | | %.1f | %s | %s | | %s | %s | %s |" % (
            m["kr"], num(m["rand"], 1), d(m["rand"], m["kr"]), m["kn"], num(m["skipgram"], 1),
            d(m["skipgram"], m["kr"]), d(m["skipgram"], m["kn"]), num(m["rnn"], 1),
            d(m["rnn"], m["kr"])))
    L.append("")
    L.append("Every run (accuracy and macro-F1 on test.tsv, %; the best dev epoch / epochs "
             "trained; fit seconds; sentences/s = train docs × epochs trained ÷ fit seconds, "
             "dev scoring and the vector training included):")
    L.append("")
    L.append("| corpus | setting | seed | accuracy | macro-F1 | epochs best / run | fit s "
             "| sentences/s | vocabulary |")
    L.append("|---|---|---:|---:|---:|---|---:|---:|---:|")
    for c in corpora:
        for key, name, fam, params, extra in CONFIGS:
            for r in res.get((c, key), []):
                if "error" in r:
                    L.append("| %s | %s | %s | **failed**: %s | | | | | |" % (
                        c, key, r["seed"], r["error"].replace("|", "/")))
                    continue
                L.append("| %s | %s | %s | %.2f | %.2f | %d / %d | %.1f | %.0f | %s |" % (
                    c, key, r["seed"], 100 * r["acc"], 100 * r["f1"], r["epochs_best"],
                    r["epochs_run"], r["fit_seconds"], r["sentences_per_second"],
                    r.get("vocabulary", "?")))
    L.append("")
    return L


def goals_md(res, sp, corpora):
    L = []
    if res:
        miss = []
        met = 0
        for c in corpora:
            r = acc_of(res.get((c, "rand"), []))
            if r is None:
                continue
            d = 100 * r - KIM[c][0]
            if d >= -RAND_TOL:
                met += 1
            else:
                miss.append("%s (%.1f vs %.1f, %+.1f: %.1f beyond the band)" % (
                    c, 100 * r, KIM[c][0], d, -d - RAND_TOL))
        L.append("- cnn, random init, within %.1f points of Kim's CNN-rand: **%s: met on %d of "
                 "%d**%s" % (RAND_TOL, "met" if not miss else "not met", met, met + len(miss),
                    ("; missed on " + ", ".join(miss)) if miss else ""))
        miss, met = [], 0
        for c in corpora:
            g = acc_of(res.get((c, "skipgram"), []))
            if g is None:
                continue
            d = 100 * g - KIM[c][0]
            if d > 0:
                met += 1
            else:
                miss.append("%s (%.1f vs %.1f, %+.1f)" % (c, 100 * g, KIM[c][0], d))
        L.append("- cnn with in-domain vectors (skip-gram on the training text) above Kim's "
                 "CNN-rand: **%s: met on %d of %d**%s" % (
                     "met" if not miss else "not met", met, met + len(miss),
                     ("; missed on " + ", ".join(miss)) if miss else ""))
        better = [c for c in corpora if acc_of(res.get((c, "skipgram"), [])) is not None and
                  acc_of(res.get((c, "rand"), [])) is not None and
                  acc_of(res.get((c, "skipgram"), [])) > acc_of(res.get((c, "rand"), []))]
        L.append("  - skip-gram init beats tcat's own random init on %d of %d corpora (%s)" % (
            len(better), len(corpora), ", ".join(better) or "none"))
    if sp:
        bits = []
        for key in [k for k in sp if not k.startswith("_")]:
            s = sp[key]["sps"]
            if s["tcat1"] and s["torch"]:
                bits.append("%s × %.2f (%s)" % (key, s["tcat1"] / s["torch"],
                                                "met" if s["tcat1"] >= s["torch"]
                                                else "**not met**"))
        L.append("- training speed per core at least PyTorch's (same architecture, same "
                 "batch size, same epochs, lazy embedding rows on both sides): " +
                 "; ".join(bits))
    L.append("")
    return L


def section(a, sp, res, corpora, seeds, epochs, reps, threads, started, elapsed, load0,
            load1, acc_s):
    tv = subprocess.run([a.tcat, "--version"], capture_output=True, text=True).stdout.strip()
    env = " ".join("%s='%s'" % (k, os.environ[k]) for k in
                   ("CORPORA", "SEEDS", "PARTS", "SPEED_EPOCHS", "REPS", "KEEP_CASE")
                   if os.environ.get(k))
    L = [BEGIN + " (written by bench/neural/run; replaced on rerun) -->",
         "## tcat's CNN and recurrent families beside Kim (2014) and PyTorch (bench/neural)", ""]
    L.append("- Date: %s (whole run %.1f min%s)" % (
        started, elapsed / 60, ", accuracy runs %.1f min" % (acc_s / 60) if acc_s else ""))
    L.append("- Machine: %s; load average (1/5/15 min) %s at the start, %s at the end. The "
             "machine is shared with other work%s; absolute times are noisy, the per-core "
             "ratios come from runs interleaved in the same minutes" % (
                 machine(), load0, load1, probe_md(sp)))
    L.append("- Versions: %s; PyTorch %s (Debian python3-torch %s, CPU, BLAS: the "
             "libblas.so.3 alternative, OpenBLAS %s); Python %s; tcat links Debian's serial "
             "OpenBLAS" % (tv, torch_version(sp),
                           pkg_version("python3-torch"), pkg_version("libopenblas0-pthread"),
                           sys.version.split()[0]))
    L.append("- Command: `%ssh bench/neural/run` at the repo root; tcat commit %s" % (
        (env + " ") if env else "", git_state(a.root)))
    L.append("- Driver: `build/bench/nnbench FAMILY PARAMS TRAIN DEV TEST --threads N --seed S "
             "--pred OUT` (bench/neural/nnbench.c, linked against libtcat.a): reads the TSV "
             "files with tcat's default tokenizer, fits the pipeline on train.tsv with dev.tsv "
             "for early stopping (after each epoch dev macro-F1; the best epoch's weights "
             "are kept; stop after `patience` epochs without a better one), times the fit "
             "alone, predicts test.tsv. No search, no refit on train + dev: one fixed "
             "candidate, as Kim trains one model per setting.")
    if res:
        L.append("- Accuracy: each setting fit with `--threads %d` on train.tsv, early "
                 "stopping on dev.tsv, scored on test.tsv by `../shared/peers/score.py` "
                 "(accuracy as Kim reports it; macro-F1 in the detail table). Parameters: "
                 "rand `{}` (tcat's cnn defaults = Kim's CNN-rand: dim 300, rows uniform in "
                 "[-0.25, 0.25), widths 3,4,5 x 100 maps, wide convolution (4 zero rows before "
                 "and after each sentence, as Kim's code pads), dropout 0.5, Adadelta rho 0.95 "
                 "lr 1, batch 50, max-norm 3 on the output rows, up to 25 epochs, patience 5; "
                 "punctuation tokens read, as in Kim's text), skipgram `{\"init\":\"skipgram\"}` "
                 "(skip-gram vectors trained on the training text only, then fine-tuned: "
                 "tcat's CNN-non-static with in-domain vectors; pipelines/neural.h), rnn `{}` "
                 "(tcat's rnn defaults: bidirectional GRU 128, max+mean pooling, Adam, up to 10 "
                 "epochs, patience 3). Goals are judged on the mean over the seeds. Kim's "
                 "figures are 10-fold "
                 "cross-validation on MR, Subj, CR, MPQA and train on SST's phrases; ours are "
                 "the fixed splits of ../shared/corpora (80/10/10: 10%% less training text than "
                 "Kim's folds) and SST trained on whole sentences only (the corpora README: "
                 "published phrase-trained SST figures are not comparable); case is kept "
                 "(`--keep-case`) on %s and folded elsewhere, as Kim keeps TREC's case and "
                 "lower-cases the rest; tcat splits `'s` off as `s`. Kim's "
                 "non-static vectors "
                 "are word2vec trained on 100 billion words of Google News; ours on the ~50k-"
                 "200k tokens of each training set. One test set of 378 (CR) to 2210 (SST-1) "
                 "sentences has a standard error of about 1 to 2 points of accuracy." % (
                     threads, ", ".join(sorted(a.keep_case)) or "no corpus"))
    if sp:
        L.append(("- Speed: `nnbench FAMILY '{\"epochs\":%d,\"patience\":%d}' train.tsv - dev.tsv "
                 "--threads 1` (no dev: every epoch runs, nothing else is timed but the fit: "
                 "vocabulary, table init, the epochs) against `torchbench.py` (the same "
                 "architecture in PyTorch, `torch.set_num_threads(1)`, OMP/OpenBLAS at one "
                 "thread) on the same tokens (from `tcat tokenize --keep-punct`: punctuation "
                 "read, as the families do), the same vocabulary (rows "
                 "for words seen >= min_count times, one unknown row), the same max_len, the same "
                 "batch size, random batches padded to the longest document (CNN: 4 zero rows "
                 "before and after each document, the wide convolution), "
                 "the same optimiser, dropout, clipping / max-norm; its clock runs over the "
                 "epochs only. `lazy rows`: embedding rows move only when a batch touched them "
                 "(sparse gradients; tcat's way; SparseAdam for the RNNs, a row-wise Adadelta "
                 "for the CNN); `dense table`: the whole embedding table is a dense parameter, "
                 "as Kim's Theano code and idiomatic PyTorch have it. The RNNs run on packed "
                 "sequences (each document exactly its own tokens, as tcat's encoder). Batch "
                 "order differs (each side's own shuffle), padding per batch is drawn from the "
                 "same distribution. Dev accuracy after the fixed epochs shows both learn alike.")
                 % (epochs, epochs))
    L.append("- Kim (2014) = Y. Kim, \"Convolutional Neural Networks for Sentence "
             "Classification\", EMNLP 2014, Table 2.")
    L.append("")
    L.append("### Goals (from the issue)")
    L.append("")
    L.extend(goals_md(res, sp, corpora))
    if sp:
        L.extend(speed_md(sp, epochs, reps, a.speed_corpus))
    if res:
        L.extend(acc_md(res, corpora, seeds))
    L.append(END)
    return "\n".join(L) + "\n"


def write_results(root, sec, begin=BEGIN, end=END):
    """Replaces the block between begin and end in bench/RESULTS.md with sec
    (appends it when the markers are missing)."""
    path = os.path.join(root, "bench", "RESULTS.md")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        text = ("# Benchmark results\n\nEach section below is written by the benchmark named "
                "in its title; rerunning a benchmark replaces only its own section (the block "
                "between its markers).\n")
    lines = text.splitlines(keepends=True)
    b = next((i for i, l in enumerate(lines) if l.startswith(begin)), None)
    e = next((i for i, l in enumerate(lines) if l.startswith(end)), None)
    if b is not None and e is not None and e >= b:
        new = "".join(lines[:b]) + sec + "".join(lines[e + 1:])
    else:
        new = text.rstrip("\n") + "\n\n" + sec
    tmp = path + ".neural.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(tmp, path)


def parse_args():
    """The command line ./run passes, and the paths of the programs run."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--corpora-dir", required=True)
    ap.add_argument("--scorer", required=True)
    a = ap.parse_args()
    a.tcat = os.path.join(a.root, "tcat")
    a.nnbench = os.path.join(a.root, "build", "bench", "nnbench")
    a.torchbench = os.path.join(a.root, "bench", "neural", "torchbench.py")
    return a


def main():
    a = parse_args()
    corpora = []
    for c in env_list("CORPORA", ALL_CORPORA):
        cdir = os.path.join(a.corpora_dir, c)
        if c not in KIM:
            say("%s: not in Kim's Table 2: skipped" % c)
        elif all(os.path.isfile(os.path.join(cdir, s + ".tsv")) for s in ("train", "dev", "test")):
            corpora.append(c)
        else:
            say("%s: no train/dev/test.tsv in %s: skipped" % (c, cdir))
    parts = env_list("PARTS", ["speed", "accuracy"])
    seeds = env_list("SEEDS", ["1"])
    epochs = int(os.environ.get("SPEED_EPOCHS", "2"))
    reps = int(os.environ.get("REPS", "2"))
    threads = int(os.environ.get("THREADS", "2"))
    a.keep_case = set(env_list("KEEP_CASE", ["trec"]))
    a.speed_corpus = os.environ.get("SPEED_CORPUS", "mr")
    scdir = os.path.join(a.corpora_dir, a.speed_corpus)
    if "speed" in parts and not os.path.isfile(os.path.join(scdir, "train.tsv")):
        say("speed: no %s/train.tsv: speed skipped" % scdir)
        parts = [p for p in parts if p != "speed"]
    if not corpora and "accuracy" in parts:
        parts = [p for p in parts if p != "accuracy"]
    if not parts:
        say("nothing to run: SKIPPED")
        return 0
    keep = os.environ.get("KEEP")
    tmp = keep or tempfile.mkdtemp(prefix="tcat-bench-neural.")
    os.makedirs(tmp, exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    t0 = time.time()
    load0 = loadavg()
    sp, res, acc_s = {}, {}, 0.0
    try:
        if "speed" in parts:
            sp = speed(a, tmp, scdir, epochs, reps)
            say("speed done [%.0f s]" % (time.time() - t0))
        if "accuracy" in parts:
            t1 = time.time()
            res = accuracy(a, tmp, corpora, seeds, threads, a.keep_case, t0)
            acc_s = time.time() - t1
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.time() - t0
    sec = section(a, sp, res, corpora, seeds, epochs, reps, threads, started, elapsed, load0,
                  loadavg(), acc_s)
    print(sec)
    if os.environ.get("NO_WRITE") != "1":
        write_results(a.root, sec)
        say("written to bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
