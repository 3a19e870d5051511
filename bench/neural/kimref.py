#!/usr/bin/python3
"""bench/neural --reference: Kim's CNN-rand in PyTorch on our splits, beside tcat's.

    sh bench/neural/run --reference

Kim (2014) reports CNN-rand after 10-fold cross-validation, and on SST after
training on every phrase of the treebank. ../shared/corpora has fixed splits
and SST's sentences only, so his figures are not a known answer for these
files. This runs his architecture and training in PyTorch (torchbench.py,
one thread per fit) on the same files and the same protocol as tcat's cnn
(nnbench.c, one thread per fit): train.tsv, early stopping on the dev
macro-F1 (patience 5, at most 25 epochs, the best epoch's weights kept),
test.tsv scored by ../shared/peers/score.py. That answers what CNN-rand
scores on these splits, and so whether a gap to Kim's table is tcat's.

Systems (every one the same tokens, vocabulary, padding, batch size 50,
dropout, max-norm and Adadelta):
  torch-dense  the embedding table a dense parameter, as Kim's Theano code
               (rows untouched by a batch still see their Adadelta state decay)
  torch-lazy   only the rows a batch touched move (tcat's update rule)
  tcat         build/bench/nnbench cnn '{}'

Environment: CORPORA (default mr sst1 sst2 subj trec cr mpqa), SEEDS
(default 1 2 3), KEEP_CASE (corpora tokenized without case folding, for
every system; default trec, as Kim), SYSTEMS (default torch-dense tcat;
torch-lazy on TREC, seeds 1-5, scored as torch-dense: 90.4), JOBS
(fits at once, default 2), NO_WRITE=1, KEEP=DIR (as ./run). The table goes
to stdout and between the bench/neural-reference markers of bench/RESULTS.md.
"""
import concurrent.futures
import datetime
import os
import shutil
import sys
import tempfile
import time

from neuralbench import (ALL_CORPORA, KIM, RAND_TOL, acc_of, env_list, git_state, loadavg,
                         machine, parse_args, pkg_version, pts, run_json, say, score, sd_of,
                         write_results)

SYSTEMS = ["torch-dense", "torch-lazy", "tcat"]
DEFAULT_SYSTEMS = ["torch-dense", "tcat"]
BEGIN = "<!-- bench/neural-reference: begin"
END = "<!-- bench/neural-reference: end -->"


def command(a, system, cdir, seed, keep_case, pred):
    train, dev, test = (os.path.join(cdir, s + ".tsv") for s in ("train", "dev", "test"))
    if system == "tcat":
        return [a.nnbench, "cnn", "{}", train, dev, test, "--threads", "1", "--seed", str(seed),
                "--pred", pred] + (["--keep-case"] if keep_case else [])
    return ([sys.executable, a.torchbench, "--tcat", a.tcat, "--arch", "cnn", "--train", train,
             "--dev", dev, "--test", test, "--pred", pred, "--epochs", "25", "--patience", "5",
             "--seed", str(seed)] + (["--dense"] if system == "torch-dense" else []) +
            (["--keep-case"] if keep_case else []))


def fit(a, w, system, corpus, seed, keep_case):
    cdir = os.path.join(a.corpora_dir, corpus)
    pred = os.path.join(w, "%s_%s_%s.pred" % (corpus, system, seed))
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    r, err = run_json(command(a, system, cdir, seed, keep_case, pred), env=env)
    if r:
        try:
            r["f1"], r["acc"] = score(a.scorer, os.path.join(cdir, "test.tsv"), pred)
        except (RuntimeError, ValueError) as e:
            r, err = None, str(e)
    if err:
        return {"seed": seed, "error": err}
    r["seed"] = seed
    return r


def acc_stats(runs):
    """The runs' mean test accuracy and its sample standard deviation, in %."""
    m, sd = acc_of(runs), sd_of(runs)
    return (100 * m if m is not None else None), (100 * sd if sd is not None else None)


def cell(m, sd):
    if m is None:
        return "—"
    return "%.1f" % m + (" ± %.1f" % sd if sd is not None else "")


def table(res, corpora, systems, seeds, keep):
    L = ["| corpus | case | Kim CNN-rand | " + " | ".join(systems) +
         " | tcat − torch-dense | torch-dense − Kim | tcat − Kim | tcat within %.1f of Kim |"
         % RAND_TOL, "|---|---|---:|" + "---:|" * len(systems) + "---:|---:|---:|---|"]
    for c in corpora:
        st = {s: acc_stats(res.get((c, s), [])) for s in systems}
        kr = KIM[c][0]
        t, d = st.get("tcat", (None,))[0], st.get("torch-dense", (None,))[0]
        goal = "—" if t is None else "met" if t - kr >= -RAND_TOL else "**not met**"
        L.append("| %s | %s | %.1f | %s | %s | %s | %s | %s |" % (
            c, "kept" if c in keep else "folded", kr,
            " | ".join(cell(*st[s]) for s in systems),
            pts(t - d if t is not None and d is not None else None),
            pts(d - kr if d is not None else None), pts(t - kr if t is not None else None), goal))
    L += ["", "Every fit (test accuracy %%, seeds %s; best dev epoch / epochs run; fit "
          "seconds on one thread, %s at once):" % (" ".join(seeds), os.environ.get("JOBS", "2")),
          "", "| corpus | system | accuracy by seed | macro-F1 by seed | epochs best / run "
          "| fit s |", "|---|---|---|---|---|---|"]
    for c in corpora:
        for s in systems:
            runs = res.get((c, s), [])
            bad = [r for r in runs if "error" in r]
            ok = [r for r in runs if "error" not in r]
            L.append("| %s | %s | %s | %s | %s | %s |" % (
                c, s, " ".join("%.2f" % (100 * r["acc"]) for r in ok) +
                "".join(" **seed %s failed**: %s" % (r["seed"], r["error"].replace("|", "/"))
                        for r in bad),
                " ".join("%.2f" % (100 * r["f1"]) for r in ok),
                " ".join("%d/%d" % (r["epochs_best"], r["epochs_run"]) for r in ok),
                " ".join("%.0f" % r["fit_seconds"] for r in ok)))
    return L


def section(a, res, corpora, systems, seeds, keep, started, elapsed, load0, load1):
    env = " ".join("%s='%s'" % (k, os.environ[k]) for k in
                   ("CORPORA", "SEEDS", "KEEP_CASE", "SYSTEMS", "JOBS") if os.environ.get(k))
    L = [BEGIN + " (written by bench/neural/run --reference; replaced on rerun) -->",
         "## Kim's CNN-rand in PyTorch on our splits, beside tcat's (bench/neural/run "
         "--reference)", ""]
    L.append("- Date: %s (run took %.1f min)" % (started, elapsed / 60))
    L.append("- Machine: %s; load average (1/5/15 min) %s at the start, %s at the end" % (
        machine(), load0, load1))
    L.append("- Versions: PyTorch (Debian python3-torch %s), one thread per fit; tcat through "
             "build/bench/nnbench, one thread per fit" % pkg_version("python3-torch"))
    L.append("- Command: `%ssh bench/neural/run --reference` at the repo root; tcat commit %s" % (
        (env + " ") if env else "", git_state(a.root)))
    L.append("- Protocol, every system: fit on train.tsv; after each epoch the dev.tsv "
             "macro-F1; the best epoch's weights kept; stop after 5 epochs without a better "
             "one, at most 25; test.tsv predicted and scored by ../shared/peers/score.py. "
             "Architecture and training are Kim's CNN-rand (tcat's cnn defaults, "
             "torchbench.py's cnn): 300-d rows uniform in [-0.25, 0.25), widths 3, 4, 5 x "
             "100 maps, 4 zero rows each side, max over time, dropout 0.5, Adadelta (rho "
             "0.95, lr 1), batch 50, output rows held to L2 norm 3; the same tokens (tcat's "
             "tokenizer, punctuation read; case kept on %s, as Kim keeps TREC's)." % (
                 ", ".join(sorted(keep)) or "no corpus"))
    L.append("- torch-dense: the embedding table is one dense parameter, as in Kim's Theano "
             "code; torch-lazy: only the rows a batch touched move, as in tcat. Kim's "
             "figures: 10-fold cross-validation (MR, Subj, CR, MPQA), SST trained on every "
             "phrase; these: one fixed split, SST on sentences only.")
    L.append("")
    L.extend(table(res, corpora, systems, seeds, keep))
    L.append(END)
    return "\n".join(L) + "\n"


def main():
    a = parse_args()
    corpora = [c for c in env_list("CORPORA", ALL_CORPORA)
               if c in KIM and os.path.isfile(os.path.join(a.corpora_dir, c, "train.tsv"))]
    seeds = env_list("SEEDS", ["1", "2", "3"])
    systems = [s for s in env_list("SYSTEMS", DEFAULT_SYSTEMS) if s in SYSTEMS]
    keep = set(env_list("KEEP_CASE", ["trec"]))
    jobs = int(os.environ.get("JOBS", "2"))
    if not corpora or not systems:
        say("--reference: nothing to run (CORPORA, SYSTEMS): SKIPPED")
        return 0
    tmp = os.environ.get("KEEP") or tempfile.mkdtemp(prefix="tcat-bench-kimref.")
    os.makedirs(tmp, exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    t0, load0 = time.time(), loadavg()
    tasks = [(s, c, seed) for c in corpora for seed in seeds for s in systems]
    res = {}
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
            futs = {ex.submit(fit, a, tmp, s, c, seed, c in keep): (s, c, seed)
                    for s, c, seed in tasks}
            for f in concurrent.futures.as_completed(futs):
                s, c, seed = futs[f]
                r = f.result()
                res.setdefault((c, s), []).append(r)
                say("%s %s seed %s: %s  [%.0f s]" % (
                    c, s, seed, r["error"] if "error" in r else "accuracy %.2f, epoch %d/%d" % (
                        100 * r["acc"], r["epochs_best"], r["epochs_run"]), time.time() - t0))
    finally:
        if not os.environ.get("KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
    for runs in res.values():
        runs.sort(key=lambda r: int(r["seed"]))
    sec = section(a, res, corpora, systems, seeds, keep, started, time.time() - t0, load0,
                  loadavg())
    print(sec)
    if os.environ.get("NO_WRITE") != "1":
        write_results(a.root, sec, BEGIN, END)
        say("written to bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
