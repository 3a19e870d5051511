#!/usr/bin/python3
"""bench/compare: accuracy and speed of tcat against its peers (called by bench/compare/run).

Every corpus <name>/{train,dev,test}.tsv of the corpora directory (goemotions, multi-label,
excluded) is run through:

  tcat          tcat train TRAIN --dev DEV --time $TCAT_TIME --threads 2 --seed 1 under
                /usr/bin/time (wall, peak RSS); the test text (cut -f2-) through a pipe into
                `tcat predict MODEL`, scored with the peers' score.py; predict throughput
                through a pipe on the test text repeated (best of 3, load included), load
                time (1-line input, best of 3), peak RSS.
  svm-word12,   ../shared/peers/anchors.py, one process per corpus and system, under
  svm-char25,   /usr/bin/time: scores, train_s and (SVMs) in-process docs/s as anchors.py
  ft-default,   reports them; peak RSS of the whole process tree. fastText models are kept
  ft-autotune   (hard link, through a FASTTEXT wrapper) to time `fasttext predict-prob
                MODEL -` through the same pipe on the same stream as tcat.

PEERS=cached takes the peer rows from ../shared/peers/results.tsv and fasttext-speed.tsv
instead (AUTOTUNE_PEERS=cached: only the autotune rows). Results: tables on stdout, and the
compare section of bench/RESULTS.md; raw rows in build/bench/compare-rows.json.
`sh bench/compare/run --report-only build/bench/compare-rows.json` rewrites the tables from
saved rows without measuring anything.
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ALL_CORPORA = ["mr", "sst2", "sst1", "subj", "trec", "cr", "mpqa", "20news", "chnsenticorp"]
MULTI_LABEL = {"goemotions"}
PEER_SYSTEMS = ["svm-word12", "svm-char25", "ft-default", "ft-autotune"]
SYSTEMS = ["tcat"] + PEER_SYSTEMS
PREDICT_RUNS = 3            # best of 3 for tcat and ft-default
AUTOTUNE_PREDICT_RUNS = 1   # autotune models load slowly (up to ~3 GB): one run each
BEGIN = "<!-- bench/compare: begin (written by bench/compare/run; replaced on rerun) -->"
END = "<!-- bench/compare: end -->"

FT_WRAPPER = """#!/bin/sh
# FASTTEXT wrapper for anchors.py (written by bench/compare/compare.py): keeps a hard link
# of the model anchors.py predicts with, so it can be timed after anchors.py deletes it,
# and caps fastText's address space (a guard for autotune trials that grow to ~24 GB).
if [ "${1:-}" = predict ] && [ -n "${KEEP_FT_MODELS:-}" ]; then
    case ${2:-} in *.bin) ln -f "$2" "$KEEP_FT_MODELS/" 2>/dev/null || true ;; esac
fi
if [ "${FT_MEM_LIMIT_KB:-0}" -gt 0 ]; then ulimit -v "$FT_MEM_LIMIT_KB"; fi
exec fasttext "$@"
"""


def log(msg):
    print(time.strftime("%H:%M:%S"), "bench/compare:", msg, file=sys.stderr, flush=True)


def q(s):
    return shlex.quote(str(s))


# ---------------------------------------------------------------- settings

def settings():
    ap = argparse.ArgumentParser(description="bench/compare (see bench/compare/run)")
    ap.add_argument("--root", required=True)
    ap.add_argument("--corpora-dir", required=True)
    ap.add_argument("--peers-dir", required=True)
    ap.add_argument("--corpora", default=os.environ.get("CORPORA", ""))
    ap.add_argument("--time", default=os.environ.get("TCAT_TIME", "5m"))
    ap.add_argument("--peers", default=os.environ.get("PEERS", "run"), choices=["run", "cached"])
    ap.add_argument("--autotune-peers", default=os.environ.get("AUTOTUNE_PEERS", ""),
                    choices=["", "run", "cached"])
    ap.add_argument("--ft-autotune", type=int, default=int(os.environ.get("FT_AUTOTUNE", "300")))
    ap.add_argument("--ft-mem-limit-gb", type=float,
                    default=float(os.environ.get("FT_MEM_LIMIT_GB", "16")))
    ap.add_argument("--budget-min", type=float,
                    default=float(os.environ.get("RUN_BUDGET", "0") or 0))
    ap.add_argument("--no-write", action="store_true", default=os.environ.get("NO_WRITE", "") == "1")
    ap.add_argument("--keep", default=os.environ.get("KEEP", ""))
    ap.add_argument("--report-only", default="", metavar="ROWS.json")
    a = ap.parse_args()
    if not a.autotune_peers:
        a.autotune_peers = a.peers
    return a


def corpus_list(a):
    have = []
    for name in sorted(os.listdir(a.corpora_dir)):
        d = os.path.join(a.corpora_dir, name)
        if name in MULTI_LABEL:
            continue
        if all(os.path.isfile(os.path.join(d, s + ".tsv")) for s in ("train", "dev", "test")):
            have.append(name)
    order = {c: i for i, c in enumerate(ALL_CORPORA)}
    have.sort(key=lambda c: (order.get(c, 99), c))
    if not a.corpora.strip():
        return have
    want = [c for c in re.split(r"[\s,]+", a.corpora.strip()) if c]
    for c in want:
        if c not in have:
            sys.exit("bench/compare: no corpus %r with train/dev/test.tsv in %s (have: %s)"
                     % (c, a.corpora_dir, " ".join(have)))
    return want


# ---------------------------------------------------------------- measuring

def rss_kb(path):
    """Last line of a /usr/bin/time -f '... %M' output file -> peak RSS in KB."""
    try:
        with open(path) as f:
            lines = [l for l in f.read().splitlines() if l.strip()]
        return int(lines[-1].split()[-1])
    except (OSError, ValueError, IndexError):
        return None


def pipe_bench(cmd, stream, runs, tmp):
    """`cat STREAM | /usr/bin/time CMD > /dev/null`, RUNS times: (best wall s, max RSS KB)."""
    rssf = os.path.join(tmp, "pipe.rss")
    errf = os.path.join(tmp, "pipe.err")
    best, peak = None, 0
    for _ in range(runs):
        sh = "cat %s | /usr/bin/time -f %%M -o %s %s > /dev/null 2> %s" % (
            q(stream), q(rssf), " ".join(q(c) for c in cmd), q(errf))
        t0 = time.perf_counter()
        r = subprocess.run(sh, shell=True)
        dt = time.perf_counter() - t0
        if r.returncode != 0:
            with open(errf, errors="replace") as f:
                raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), r.returncode,
                                                          f.read()[-500:]))
        best = dt if best is None else min(best, dt)
        peak = max(peak, rss_kb(rssf) or 0)
    return best, peak


def load_bench(cmd, one, runs):
    """CMD < ONE (a 1-line input), RUNS times: best wall s."""
    best = None
    for _ in range(runs):
        with open(one, "rb") as fin:
            t0 = time.perf_counter()
            subprocess.run(cmd, stdin=fin, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=True)
            dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return best


def write_streams(corpus_dir, wd):
    """test.txt (cut -f2- of test.tsv), stream.txt (repeated), one.txt; returns counts."""
    with open(os.path.join(corpus_dir, "test.tsv"), encoding="utf-8", newline="\n") as f:
        texts = [line.rstrip("\n").split("\t", 1)[1] for line in f]
    test = os.path.join(wd, "test.txt")
    with open(test, "w", encoding="utf-8", newline="\n") as f:
        f.writelines(t + "\n" for t in texts)
    nbytes = os.path.getsize(test)
    # the same rule as anchors.py (>= 200000 lines or >= 50 MB, whichever comes first),
    # so the fastText figures match ../shared/peers/fasttext-speed.tsv
    reps = max(1, min(math.ceil(200000 / len(texts)), math.ceil(50e6 / nbytes)))
    stream = os.path.join(wd, "stream.txt")
    with open(stream, "wb") as out, open(test, "rb") as f:
        data = f.read()
        for _ in range(reps):
            out.write(data)
    one = os.path.join(wd, "one.txt")
    with open(one, "w", encoding="utf-8", newline="\n") as f:
        f.write(texts[0] + "\n")
    subprocess.run(["cat", stream], stdout=subprocess.DEVNULL, check=True)  # page cache
    return {"test": test, "stream": stream, "one": one, "n_test": len(texts),
            "n_stream": reps * len(texts), "stream_bytes": reps * nbytes, "reps": reps}


# ---------------------------------------------------------------- tcat

def describe_member(m):
    p = m.get("params", {})
    if m.get("family") == "linear" and "learner" in p:
        s = "linear %s C=%g" % (p["learner"], p.get("C", float("nan")))
        if p.get("word_ngrams"):
            s += " word 1-%d" % p["word_ngrams"]
        if p.get("char_max"):
            s += " char %d-%d" % (p.get("char_min", 0), p["char_max"])
        return s
    return "%s(%s)" % (m.get("family", "?"), ", ".join("%s=%s" % kv for kv in sorted(p.items())))


def run_tcat(a, tcat, corpus, cdir, wd, streams, score):
    row = {"corpus": corpus, "system": "tcat", "source": "this run",
           "load1": os.getloadavg()[0]}
    model = os.path.join(wd, "model.tcat")
    report = os.path.join(wd, "report.json")
    tf = os.path.join(wd, "train.time")
    cmd = [tcat, "train", os.path.join(cdir, "train.tsv"), "--dev", os.path.join(cdir, "dev.tsv"),
           "-o", model, "--time", a.time, "--threads", "2", "--seed", "1", "--report", report]
    row["settings"] = "tcat train train.tsv --dev dev.tsv --time %s --threads 2 --seed 1" % a.time
    log("%s: tcat train (--time %s)" % (corpus, a.time))
    with open(os.path.join(wd, "train.log"), "wb") as lf:
        t0 = time.perf_counter()
        r = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", tf] + cmd, stdout=lf, stderr=lf)
        row["train_s"] = time.perf_counter() - t0
    row["train_rss_kb"] = rss_kb(tf)
    if r.returncode != 0:
        with open(os.path.join(wd, "train.log"), errors="replace") as f:
            tail = f.read()[-400:]
        row.update(status="failed", error="tcat train exited %d: %s" % (r.returncode, tail))
        log("%s: tcat train FAILED (%d)" % (corpus, r.returncode))
        return row
    row["model_bytes"] = os.path.getsize(model)
    try:
        with open(report) as f:
            rep = json.load(f)
        row["candidates"] = rep.get("candidates")
        row["candidates_fitted"] = rep.get("candidates_fitted")
        row["report_seconds"] = rep.get("seconds")
        info = json.loads(subprocess.run([tcat, "info", model, "--json"], capture_output=True,
                                         check=True).stdout)
        im = info.get("meta", {})
        # the selection score: "dev_score" (on DEV) or "heldout_score" (e.g. "5-fold")
        row["best_dev"] = im.get("dev_score", im.get("heldout_score"))
        row["scoring"] = im.get("scoring", "dev" if "dev_score" in im else "?")
        row["metric"] = im.get("metric")
        row["members"] = [{"family": m.get("family"), "weight": m.get("weight"),
                           "desc": describe_member(m)} for m in info.get("members", [])]
    except Exception as e:  # the report is a nice-to-have
        row["report_error"] = repr(e)

    # accuracy: the test text through a pipe
    sh = "cut -f2- %s | %s predict %s" % (q(os.path.join(cdir, "test.tsv")), q(tcat), q(model))
    out = subprocess.run(sh, shell=True, capture_output=True, check=True).stdout
    pred = [l.split(b"\t", 1)[0].decode("utf-8", "replace") for l in out.splitlines()]
    with open(os.path.join(cdir, "test.tsv"), encoding="utf-8", newline="\n") as f:
        gold = [l.split("\t", 1)[0] for l in f]
    row["macro_f1"], row["accuracy"] = score.score(gold, pred)

    # speed: a pipe, best of 3, load included; load time apart; peak RSS
    log("%s: tcat predict, %d lines through a pipe" % (corpus, streams["n_stream"]))
    best, peak = pipe_bench([tcat, "predict", model], streams["stream"], PREDICT_RUNS, wd)
    row["predict_dps"] = streams["n_stream"] / best
    row["predict_rss_kb"] = peak
    row["predict_how"] = "pipe"
    best1, _ = pipe_bench([tcat, "predict", "--threads", "1", model], streams["stream"],
                          PREDICT_RUNS, wd)
    row["predict_dps_1thread"] = streams["n_stream"] / best1
    row["load_s"] = load_bench([tcat, "predict", model], streams["one"], PREDICT_RUNS)
    row["status"] = "ok"
    log("%s: tcat macro-F1 %.4f acc %.4f train %.1fs predict %.0f docs/s"
        % (corpus, row["macro_f1"], row["accuracy"], row["train_s"], row["predict_dps"]))
    return row


# ---------------------------------------------------------------- peers, run now

def read_tsv_rows(path):
    rows = {}
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            cols = f.readline().rstrip("\n").split("\t")
            for line in f:
                vals = line.rstrip("\n").split("\t")
                rows[(vals[0], vals[1])] = dict(zip(cols, vals))
    return rows


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def run_peer(a, corpus, system, wd, streams, wrapper):
    row = {"corpus": corpus, "system": system, "source": "this run",
           "load1": os.getloadavg()[0]}
    if system == "ft-autotune":
        row["autotune_s"] = a.ft_autotune
    sd = os.path.join(wd, system)
    keep = os.path.join(sd, "keep")
    out = os.path.join(sd, "out")
    os.makedirs(keep, exist_ok=True)
    os.makedirs(out, exist_ok=True)
    env = dict(os.environ)
    env.update(CORPORA=a.corpora_dir, HOLDOUT="", ANCHORS_WORK=os.path.join(sd, "work"),
               ANCHORS_OUT=out, AUTOTUNE_DURATION=str(a.ft_autotune), FASTTEXT=wrapper,
               KEEP_FT_MODELS=keep,
               FT_MEM_LIMIT_KB=str(int(a.ft_mem_limit_gb * 1024 * 1024)))
    tf = os.path.join(sd, "time")
    logpath = os.path.join(sd, "anchors.log")
    cmd = ["/usr/bin/time", "-f", "%e %M", "-o", tf, "/usr/bin/python3",
           os.path.join(a.peers_dir, "anchors.py"), "run", "--corpora", corpus,
           "--systems", system]
    log("%s: %s (anchors.py)%s" % (corpus, system, " -autotune-duration %d" % a.ft_autotune
                                   if system == "ft-autotune" else ""))
    t0 = time.perf_counter()
    with open(logpath, "w", encoding="utf-8") as lf:
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, errors="replace")
        for line in p.stdout:
            lf.write(line)
            print("    anchors.py: " + line.rstrip("\n"), file=sys.stderr, flush=True)
        rc = p.wait()
    row["process_s"] = time.perf_counter() - t0
    row["train_rss_kb"] = rss_kb(tf)
    res = read_tsv_rows(os.path.join(out, "results.tsv")).get((corpus, system))
    if rc != 0 or res is None:
        with open(logpath, errors="replace") as f:
            text = f.read()
        m = re.findall(r"FAILED .*", text)
        err = m[-1] if m else "anchors.py exited %d without a row: %s" % (rc, text[-300:])
        cpe = re.search(r"CalledProcessError\((-?\d+), \['fasttext', '(\w+)'", err)
        if cpe:
            code = int(cpe.group(1))
            err = "anchors.py: `fasttext %s` exited %d" % (cpe.group(2), code)
            if code in (-9, 137):
                err += " (SIGKILL: the kernel's out-of-memory killer)"
            elif code in (-6, 134):
                err += (" (SIGABRT: an allocation failed -- out of memory under the %g GiB "
                        "address-space guard)" % a.ft_mem_limit_gb)
        err += "; after %.0f s, peak RSS %s MB" % (
            time.perf_counter() - t0, fmt(mb(row["train_rss_kb"]), "%.0f"))
        row.update(status="failed", error=err)
        log("%s: %s FAILED: %s" % (corpus, system, err))
        shutil.rmtree(sd, ignore_errors=True)
        return row
    row["settings"] = res["settings"]
    row["macro_f1"] = num(res["macro_f1"])
    row["accuracy"] = num(res["accuracy"])
    row["train_s"] = num(res["train_s"])
    row["anchors_dps"] = num(res["predict_docs_per_s"])
    row["status"] = "ok"
    if system.startswith("svm-"):
        row["predict_dps"] = row["anchors_dps"]
        row["predict_how"] = "in-process"
    else:
        model = os.path.join(keep, system + ".bin")
        if not os.path.isfile(model):
            row["predict_how"] = "file-excl-load"
            row["predict_dps"] = row["anchors_dps"]
            row["speed_error"] = "model not kept; docs/s from anchors.py (file, load excluded)"
        else:
            row["model_bytes"] = os.path.getsize(model)
            runs = AUTOTUNE_PREDICT_RUNS if system == "ft-autotune" else PREDICT_RUNS
            row["predict_runs"] = runs
            log("%s: %s predict-prob, %d lines through a pipe (best of %d)"
                % (corpus, system, streams["n_stream"], runs))
            best, peak = pipe_bench(["fasttext", "predict-prob", model, "-"], streams["stream"],
                                    runs, sd)
            row["predict_dps"] = streams["n_stream"] / best
            row["predict_rss_kb"] = peak
            row["predict_how"] = "pipe"
            row["load_s"] = load_bench(["fasttext", "predict-prob", model, "-"],
                                       streams["one"], runs)
    log("%s: %s macro-F1 %.4f acc %.4f train %.1fs predict %.0f docs/s"
        % (corpus, system, row["macro_f1"], row["accuracy"], row["train_s"],
           row.get("predict_dps") or 0))
    shutil.rmtree(sd, ignore_errors=True)
    return row


# ---------------------------------------------------------------- peers, cached

def cached_peer(a, corpus, system):
    res = read_tsv_rows(os.path.join(a.peers_dir, "results.tsv"))
    speed = read_tsv_rows(os.path.join(a.peers_dir, "fasttext-speed.tsv"))
    row = {"corpus": corpus, "system": system, "source": "cached"}
    name = system
    if system == "ft-autotune":
        name = "ft-autotune" if a.ft_autotune == 120 else "ft-autotune%d" % a.ft_autotune
        row["autotune_s"] = a.ft_autotune
        if (corpus, name) not in res and (corpus, "ft-autotune") in res:
            row["cached_note"] = ("the cached run has no %d s autotune row for %s (see "
                                  "../shared/peers/notes.md); its 120 s row is shown"
                                  % (a.ft_autotune, corpus))
            name = "ft-autotune"
            row["autotune_s"] = 120
    r = res.get((corpus, name))
    if r is None:
        row.update(status="failed", error="no row for %s/%s in the cached results.tsv"
                   % (corpus, name))
        return row
    row["settings"] = r["settings"]
    row["macro_f1"] = num(r["macro_f1"])
    row["accuracy"] = num(r["accuracy"])
    row["train_s"] = num(r["train_s"])
    row["status"] = "ok"
    m = re.search(r"model (\d+) MB", r["settings"])
    if m:
        row["model_bytes"] = int(m.group(1)) * 1e6
    m = re.search(r"predict load ([0-9.]+)s", r["settings"])
    if m:
        row["load_s"] = float(m.group(1))
    sp = speed.get((corpus, system))
    if system.startswith("svm-"):
        row["predict_dps"] = num(r["predict_docs_per_s"])
        row["predict_how"] = "in-process"
    elif sp is not None:
        row["predict_dps"] = num(sp["pipe_docs_per_s"])
        row["load_s"] = num(sp["load_s"])
        row["predict_how"] = "cached-pipe"
    else:
        row["predict_dps"] = num(r["predict_docs_per_s"])
        row["predict_how"] = "file-excl-load"
    return row


# ---------------------------------------------------------------- the report

HOW_MARK = {"pipe": "", "in-process": " †", "cached-pipe": " ‡", "file-excl-load": " §"}


def fmt(v, spec, none="—"):
    return none if v is None else spec % v


def mb(kb):
    return None if kb is None else kb / 1024.0


def fr(v):
    """A ratio, 3 significant digits."""
    return "—" if v is None else "%.3g" % v


def ratio(x, y):
    if x is None or y is None or y == 0:
        return None
    return x / y


def sysname(r):
    s = r["system"]
    if s == "ft-autotune":
        s = "ft-autotune %ds" % r.get("autotune_s", 0)
    if r.get("source") == "cached":
        s += " (cached)"
    return s


def peer_refs(rows, corpus):
    """The peers tcat is compared with: name -> row (or None)."""
    get = lambda s: rows.get((corpus, s))
    ok = lambda r: r is not None and r.get("status") == "ok"
    w12, c25 = get("svm-word12"), get("svm-char25")
    svms = [r for r in (w12, c25) if ok(r)]
    best = max(svms, key=lambda r: r["macro_f1"]) if svms else None
    return [("svm-word12", w12), ("best sklearn", best), ("ft-default", get("ft-default")),
            ("ft-autotune", get("ft-autotune"))]


def ratio_cells(t, p):
    if p is None or p.get("status") != "ok" or t is None or t.get("status") != "ok":
        return ["—"] * 6
    d = 100 * (t["macro_f1"] - p["macro_f1"])
    return ["%+.2f" % d,
            fr(ratio(t.get("train_s"), p.get("train_s"))),
            fr(ratio(t.get("predict_dps"), p.get("predict_dps"))),
            fr(ratio(t.get("train_rss_kb"), p.get("train_rss_kb"))),
            fr(ratio(t.get("predict_rss_kb"), p.get("predict_rss_kb"))),
            fr(ratio(t.get("model_bytes"), p.get("model_bytes")))]


def corpus_section(rows, corpus, meta):
    out = []
    st = meta["streams"].get(corpus, {})
    out.append("### %s\n" % corpus)
    out.append("| system | macro-F1 | accuracy | train s | predict docs/s | load s | "
               "train peak MB | predict peak MB | model MB |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in SYSTEMS:
        r = rows.get((corpus, s))
        if r is None:
            continue
        if r.get("status") != "ok":
            out.append("| %s | failed | | | | | %s | | |" % (sysname(r), fmt(mb(r.get("train_rss_kb")), "%.0f", "")))
            continue
        out.append("| %s | %.4f | %.4f | %s | %s%s | %s | %s | %s | %s |" % (
            sysname(r), r["macro_f1"], r["accuracy"], fmt(r.get("train_s"), "%.2f"),
            fmt(r.get("predict_dps"), "%.0f"), HOW_MARK.get(r.get("predict_how"), ""),
            fmt(r.get("load_s"), "%.3f"), fmt(mb(r.get("train_rss_kb")), "%.0f"),
            fmt(mb(r.get("predict_rss_kb")), "%.1f"),
            fmt(None if r.get("model_bytes") is None else r["model_bytes"] / 1e6, "%.1f")))
    t = rows.get((corpus, "tcat"))
    out.append("")
    out.append("tcat ÷ peer:\n")
    out.append("| peer | macro-F1 diff, points | train time × | predict docs/s × | "
               "train peak MB × | predict peak MB × | model MB × |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    for name, p in peer_refs(rows, corpus):
        label = name
        if p is not None and name == "best sklearn":
            label = "best sklearn = %s" % p["system"]
        elif p is not None and name == "ft-autotune":
            label = sysname(p)
        out.append("| %s | %s |" % (label, " | ".join(ratio_cells(t, p))))
    notes = []
    if t is not None and t.get("status") == "ok":
        mem = t.get("members") or []
        notes.append("tcat: %s of %s candidates fitted, search + refit %.1f s (report); "
                     "model: %s; selection %s %s (%s); predict with --threads 1: %.0f docs/s%s"
                     % (t.get("candidates_fitted", "?"), t.get("candidates", "?"),
                        t.get("report_seconds") or float("nan"),
                        " + ".join("%s%s" % (m["desc"], "" if len(mem) == 1 else
                                             " (w %.2f)" % (m.get("weight") or 0))
                                   for m in mem) or "?",
                        t.get("metric") or "macro-f1", fmt(t.get("best_dev"), "%.4f"),
                        t.get("scoring", "?"), t.get("predict_dps_1thread") or 0,
                        fmt(t.get("load1"), " -- load average (1 min) at its start %.2f", "")))
    elif t is not None:
        notes.append("tcat: FAILED: %s" % t.get("error"))
    for s in PEER_SYSTEMS:
        r = rows.get((corpus, s))
        if r is None:
            continue
        if r.get("status") != "ok":
            notes.append("%s: FAILED: %s" % (sysname(r), r.get("error")))
            continue
        extra = ""
        if r.get("cached_note"):
            extra += " -- " + r["cached_note"]
        if r.get("process_s") is not None:
            extra += " -- anchors.py process %.1f s" % r["process_s"]
        if r.get("load1") is not None:
            extra += " -- load average (1 min) at its start %.2f" % r["load1"]
        if r.get("anchors_dps") and r.get("predict_how") == "pipe":
            extra += " -- anchors.py docs/s (file, load excluded): %.0f" % r["anchors_dps"]
        notes.append("%s: %s%s" % (sysname(r), r.get("settings", ""), extra))
    if st:
        notes.append("predict stream: the %d test texts repeated %d times = %d lines, %.1f MB"
                     % (st["n_test"], st["reps"], st["n_stream"], st["stream_bytes"] / 1e6))
    out.append("")
    out.extend("- " + n.replace("|", "\\|") for n in notes)
    out.append("")
    return out


def goals(rows, corpora):
    res = {"a": [], "b": [], "c": []}
    for c in corpora:
        t = rows.get((c, "tcat"))
        tok = t is not None and t.get("status") == "ok"
        w = rows.get((c, "svm-word12"))
        f = rows.get((c, "ft-default"))
        if tok and w and w.get("status") == "ok":
            res["a"].append((c, t["macro_f1"] >= w["macro_f1"],
                             "%.4f vs %.4f" % (t["macro_f1"], w["macro_f1"])))
            res["c"].append((c, t["train_s"] < w["train_s"],
                             "%.2f s vs %.2f s" % (t["train_s"], w["train_s"])))
        else:
            res["a"].append((c, None, "not measured"))
            res["c"].append((c, None, "not measured"))
        if tok and f and f.get("status") == "ok" and f.get("predict_dps"):
            res["b"].append((c, t["predict_dps"] >= f["predict_dps"],
                             "%.0f vs %.0f docs/s" % (t["predict_dps"], f["predict_dps"])))
        else:
            res["b"].append((c, None, "not measured"))
    return res


def geomean(xs):
    xs = [x for x in xs if x]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def summary(rows, corpora):
    out = []
    g = goals(rows, corpora)
    mark = lambda v: "—" if v is None else ("met" if v else "**not met**")
    gi = {k: {c: v for c, v, _ in g[k]} for k in g}
    out.append("| corpus | tcat macro-F1 | svm-word12 | best sklearn | ft-default | ft-autotune "
               "| (a) |")
    out.append("|---|---:|---:|---:|---:|---:|---|")
    diffs = {n: [] for n in ("svm-word12", "best sklearn", "ft-default", "ft-autotune")}
    for c in corpora:
        t = rows.get((c, "tcat"))
        if t is None or t.get("status") != "ok":
            out.append("| %s | failed | | | | | — |" % c)
            continue
        cells = []
        for name, p in peer_refs(rows, c):
            if p is None or p.get("status") != "ok":
                cells.append("failed" if p is not None else "—")
                continue
            d = 100 * (t["macro_f1"] - p["macro_f1"])
            diffs[name].append(d)
            tag = ""
            if name == "best sklearn":
                tag = " (%s)" % p["system"].replace("svm-", "")
            elif p.get("source") == "cached":
                tag = " (cached%s)" % (" %d s" % p["autotune_s"] if p.get("autotune_s") else "")
            cells.append("%.4f (%+.2f)%s" % (p["macro_f1"], d, tag))
        out.append("| %s | %.4f | %s | %s |" % (c, t["macro_f1"], " | ".join(cells),
                                               mark(gi["a"].get(c))))
    out.append("| mean diff, points | | %s | |" % " | ".join(
        "%+.2f (%d)" % (sum(v) / len(v), len(v)) if v else "—" for v in diffs.values()))
    out.append("")
    out.append("Peer cells: peer macro-F1 (tcat − peer, points). (a): tcat macro-F1 >= "
               "svm-word12.\n")
    out.append("| corpus | tcat train s | svm-word12 train s | × | (c) | tcat docs/s | "
               "ft-default docs/s | × | (b) | tcat docs/s, predict --threads 1 | × |")
    out.append("|---|---:|---:|---:|---|---:|---:|---:|---|---:|---:|")
    acc = {k: [] for k in ("train", "dps", "dps1", "mem_w", "mem_f", "pmem_f", "model_f")}
    mem_rows = []
    for c in corpora:
        t = rows.get((c, "tcat"))
        if t is None or t.get("status") != "ok":
            out.append("| %s | failed |" % c)
            mem_rows.append("| %s | failed |" % c)
            continue
        w = rows.get((c, "svm-word12"))
        f = rows.get((c, "ft-default"))
        w = w if w and w.get("status") == "ok" else {}
        f = f if f and f.get("status") == "ok" else {}
        r = {"train": ratio(t["train_s"], w.get("train_s")),
             "dps": ratio(t["predict_dps"], f.get("predict_dps")),
             "dps1": ratio(t.get("predict_dps_1thread"), f.get("predict_dps")),
             "mem_w": ratio(t.get("train_rss_kb"), w.get("train_rss_kb")),
             "mem_f": ratio(t.get("train_rss_kb"), f.get("train_rss_kb")),
             "pmem_f": ratio(t.get("predict_rss_kb"), f.get("predict_rss_kb")),
             "model_f": ratio(t.get("model_bytes"), f.get("model_bytes"))}
        for k, v in r.items():
            if v:
                acc[k].append(v)
        fmark = HOW_MARK.get(f.get("predict_how"), "")
        out.append("| %s | %.2f | %s | %s | %s | %.0f | %s%s | %s | %s | %s | %s |" % (
            c, t["train_s"], fmt(w.get("train_s"), "%.2f"), fr(r["train"]), mark(gi["c"].get(c)),
            t["predict_dps"], fmt(f.get("predict_dps"), "%.0f"), fmark, fr(r["dps"]),
            mark(gi["b"].get(c)), fmt(t.get("predict_dps_1thread"), "%.0f"), fr(r["dps1"])))
        mb_ = lambda row, k: fmt(mb(row.get(k)), "%.0f")
        mem_rows.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            c, mb_(t, "train_rss_kb"), mb_(w, "train_rss_kb"), fr(r["mem_w"]),
            mb_(f, "train_rss_kb"), fr(r["mem_f"]), fmt(mb(t.get("predict_rss_kb")), "%.1f"),
            fmt(mb(f.get("predict_rss_kb")), "%.1f"), fr(r["pmem_f"]),
            fmt(None if t.get("model_bytes") is None else t["model_bytes"] / 1e6, "%.1f"),
            fmt(None if f.get("model_bytes") is None else f["model_bytes"] / 1e6, "%.1f"),
            fr(r["model_f"])))
    gm = {k: geomean(v) for k, v in acc.items()}
    out.append("| geometric mean | | | %s | | | | %s | | | %s |" % (
        fr(gm["train"]), fr(gm["dps"]), fr(gm["dps1"])))
    out.append("")
    out.append("×: tcat ÷ peer. (b): tcat predict docs/s (default threads) >= fastText "
               "default's, through a pipe. (c): tcat train time < svm-word12's.\n")
    out.append("| corpus | tcat train peak MB | svm-word12 | × | ft-default | × | tcat predict "
               "peak MB | ft-default | × | tcat model MB | ft-default | × |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    out.extend(mem_rows)
    out.append("| geometric mean | | | %s | | %s | | | %s | | | %s |" % (
        fr(gm["mem_w"]), fr(gm["mem_f"]), fr(gm["pmem_f"]), fr(gm["model_f"])))
    out.append("")
    out.append("Goals (from the issue):\n")
    titles = {"a": "(a) tcat macro-F1 >= scikit-learn TF-IDF word 1-2 + LinearSVC (svm-word12) "
                   "on every corpus",
              "b": "(b) tcat predict throughput through a pipe >= fastText's (default model)",
              "c": "(c) tcat training time < scikit-learn's svm-word12 training time"}
    for k in ("a", "b", "c"):
        measured = [(c, v, d) for c, v, d in g[k] if v is not None]
        met = [c for c, v, _ in measured if v]
        miss = [(c, d) for c, v, d in measured if not v]
        if not measured:
            verdict = "not measured"
        elif not miss and len(measured) == len(g[k]):
            verdict = "met on all %d corpora" % len(measured)
        elif not miss:
            verdict = "met on the %d corpora measured" % len(measured)
        else:
            verdict = "not met: met on %d of %d" % (len(met), len(measured))
        line = "- %s: **%s**" % (titles[k], verdict)
        if miss:
            line += "; missed on " + ", ".join("%s (%s)" % m for m in miss)
        if met:
            line += "; met on " + ", ".join(met)
        if k == "b":
            one = []
            for c in corpora:
                t, f = rows.get((c, "tcat")), rows.get((c, "ft-default"))
                if (t and t.get("status") == "ok" and t.get("predict_dps_1thread") and f
                        and f.get("status") == "ok" and f.get("predict_dps")):
                    one.append((c, t["predict_dps_1thread"] >= f["predict_dps"]))
            if one:
                line += ("; with `tcat predict --threads 1` (fastText predicts on one thread): "
                         "met on %d of %d%s" % (sum(v for _, v in one), len(one),
                                                " (missed on %s)" % ", ".join(
                                                    c for c, v in one if not v)
                                                if not all(v for _, v in one) else ""))
        out.append(line)
    out.append("")
    return out


def render(rows, meta):
    corpora = meta["corpora"]
    out = [BEGIN, "## tcat against its peers: accuracy and speed (bench/compare)", ""]
    out.append("- Date: %s (run took %s)" % (meta.get("date", "?"), meta.get("duration", "?")))
    out.append("- Machine: %s" % meta["machine"])
    loads = [r["load1"] for r in rows.values() if r.get("load1") is not None]
    if loads:
        out.append("- Other load: the 1-minute load average at the start of each measurement "
                   "ranged %.2f-%.2f on %s (other users' jobs ran during the run; every "
                   "timing, tcat's and the peers', is affected, and the ratios only in part)"
                   % (min(loads), max(loads), "these 2 cores" if "2 cores" in meta["machine"]
                      else "this machine"))
    out.append("- Versions: %s" % meta["versions"])
    out.append("- tcat build: commit %s" % meta["commit"])
    out.append("- Command: `%s` at the repo root" % meta["command"])
    out.append("- Corpora: %s (../shared/corpora; goemotions is multi-label and not run)"
               % " ".join(corpora))
    out.append("- Peers: %s" % meta["peers_desc"])
    if meta.get("budget_cached"):
        out.append("- RUN_BUDGET: ft-autotune was not run on %s (it would have ended after the "
                   "budget); the autotune row shown there is the CACHED one of "
                   "../shared/peers/results.tsv" % " ".join(meta["budget_cached"]))
    out.append("")
    out.append("Method:")
    out.append("")
    for m in meta["method"]:
        out.append("- " + m)
    out.append("")
    out.append("### Summary\n")
    out.extend(summary(rows, corpora))
    for c in corpora:
        out.extend(corpus_section(rows, c, meta))
    out.append(END)
    return "\n".join(out) + "\n"


METHOD = [
    "Scores: every system's predicted test labels scored by ../shared/peers/score.py "
    "(macro-F1, accuracy); tcat's labels are the first column of `cut -f2- test.tsv | tcat "
    "predict MODEL`.",
    "tcat train: `tcat train train.tsv --dev dev.tsv -o M --time T --threads 2 --seed 1 "
    "--report R.json` under `/usr/bin/time -f '%e %M'`; train s = wall time of the whole "
    "command (reading, search, refit of the winner on train+dev, writing the model); train "
    "peak MB = its peak RSS.",
    "Peers: ../shared/peers/anchors.py (its settings, 2 threads), one process per corpus and "
    "system under `/usr/bin/time`. train s = anchors.py's train_s: SVMs in-process "
    "vectorize + fit for each C in {0.1,0.3,1,3} + choice on dev (no interpreter start, "
    "imports or file reading; no refit on train+dev); fastText the wall time of `fasttext "
    "supervised` (with autotune: the whole search). train peak MB = peak RSS of the anchors.py "
    "process tree (GNU time reports the largest of the process and its children): training "
    "plus anchors.py's own predictions. fastText runs through a wrapper that caps its "
    "address space (default 16 GiB, FT_MEM_LIMIT_GB) so that an autotune trial that grows "
    "towards the 24 GB seen in notes.md fails alone instead of pressing the shared machine.",
    "predict docs/s (no mark): through a pipe, `cat STREAM | CMD > /dev/null`, model load "
    "included, best of 3 (fastText autotune: 1 run); CMD = `tcat predict M` (default threads "
    "= all cores = 2) or `fasttext predict-prob M.bin -` (single-threaded). STREAM = the test "
    "texts repeated to >= 200000 lines or >= 50 MB, whichever comes first (anchors.py's "
    "rule; 20news: 30128 lines). load s = best wall time on a 1-line input. predict peak MB "
    "= peak RSS of the predicting process.",
    "† scikit-learn: anchors.py's in-process transform + predict of the test set (no pipe, no "
    "load, no model file; model MB and predict peak MB not measured). ‡ cached fastText: "
    "`cat STREAM | fasttext predict M.bin -`, load included (fasttext-speed.tsv). § from "
    "anchors.py: `fasttext predict M.bin FILE`, load excluded (results.tsv).",
    "Ratios are tcat ÷ peer (macro-F1: tcat − peer in points); best sklearn = the SVM with "
    "the higher test macro-F1 on that corpus (the harder bar). The machine is shared: other "
    "users' jobs may have run at the same time (load average recorded above).",
]


# ---------------------------------------------------------------- main

def git_state(root):
    def g(*args):
        return subprocess.run(["git", "-C", root] + list(args), capture_output=True,
                              text=True).stdout.strip()
    head = g("rev-parse", "--short", "HEAD") or "unknown"
    # bench/RESULTS.md (written by the benchmarks) is not part of the build
    dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no",
                            "--", ".", ":(exclude)bench/RESULTS.md"],
                           capture_output=True, text=True).stdout
    files = [l[3:] for l in dirty.splitlines() if len(l) > 3]
    untracked = [f for f in g("ls-files", "--others", "--exclude-standard").splitlines()
                 if f and not f.startswith("bench/compare/")]
    parts = []
    if files:
        import hashlib
        h = hashlib.sha256(subprocess.run(
            ["git", "-C", root, "diff", "HEAD", "--", ".", ":(exclude)bench/RESULTS.md"],
            capture_output=True).stdout).hexdigest()[:12]
        parts.append("modified: %s (`git diff HEAD -- . ':(exclude)bench/RESULTS.md' | "
                     "sha256sum` %s...)" % (" ".join(files), h))
    if untracked:
        parts.append("untracked: %s" % " ".join(untracked))
    if not parts:
        return head + " (clean work tree)"
    return "%s, work tree with uncommitted changes -- %s" % (head, "; ".join(parts))


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for l in f:
                if l.startswith("model name"):
                    cpu = l.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            memkb = int(next(l for l in f if l.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration):
        memkb = 0
    return "%d cores (nproc), %s, %.0f GiB RAM, %s %s" % (
        len(os.sched_getaffinity(0)), cpu or platform.machine(), memkb / 1048576,
        platform.system(), platform.release())


def versions(tcat):
    v = [subprocess.run([tcat, "--version"], capture_output=True, text=True).stdout.strip()]
    dq = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\n", "fasttext",
                         "python3-sklearn", "python3-numpy", "python3-scipy"],
                        capture_output=True, text=True).stdout.strip().splitlines()
    v += dq
    v.append("Python %s" % platform.python_version())
    return "; ".join(v)


def command_line(a):
    env = []
    for k in ("CORPORA", "TCAT_TIME", "PEERS", "AUTOTUNE_PEERS", "FT_AUTOTUNE", "RUN_BUDGET",
              "FT_MEM_LIMIT_GB", "NO_WRITE", "KEEP"):
        if os.environ.get(k):
            env.append("%s=%s" % (k, q(os.environ[k])))
    args = []
    skip = False
    for x in sys.argv[1:]:
        if skip:
            skip = False
            continue
        if x in ("--root", "--corpora-dir", "--peers-dir"):
            skip = True
            continue
        args.append(q(x))
    return " ".join(env + ["sh bench/compare/run"] + args)


def write_results(root, text):
    path = os.path.join(root, "bench", "RESULTS.md")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            old = f.read()
    else:
        old = ("# Benchmark results\n\nEach section below is written by the benchmark named in "
               "its title; rerunning a\nbenchmark replaces only its own section (the block "
               "between its markers).\n")
    lines = old.splitlines(keepends=True)
    b = next((i for i, l in enumerate(lines) if l.startswith("<!-- bench/compare: begin")), None)
    e = next((i for i, l in enumerate(lines) if l.startswith("<!-- bench/compare: end")), None)
    if b is not None and e is not None and e > b:
        new = "".join(lines[:b]) + text + "".join(lines[e + 1:])
    else:
        new = old.rstrip("\n") + "\n\n" + text
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(path + ".tmp", path)


def save_rows(path, rows, meta):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump({"meta": meta, "rows": [r for r in rows.values()]}, f, indent=1)
    os.replace(path + ".tmp", path)


def main():
    a = settings()
    rows_path = os.path.join(a.root, "build", "bench", "compare-rows.json")
    if a.report_only:
        with open(a.report_only) as f:
            data = json.load(f)
        rows = {(r["corpus"], r["system"]): r for r in data["rows"]}
        text = render(rows, data["meta"])
        print(text)
        if not a.no_write:
            write_results(a.root, text)
        return
    sys.path.insert(0, a.peers_dir)
    import score  # the one scorer

    corpora = corpus_list(a)
    tmp = tempfile.mkdtemp(prefix="tcat-bench-compare.", dir=os.environ.get("TMPDIR", "/tmp"))
    started = time.time()

    def cleanup(*_):
        if a.keep:
            os.makedirs(a.keep, exist_ok=True)
            for x in os.listdir(tmp):
                shutil.move(os.path.join(tmp, x), os.path.join(a.keep, x))
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    # a private copy of the binary: the work tree may be rebuilt during a long run
    tcat = os.path.join(tmp, "tcat")
    shutil.copy2(os.path.join(a.root, "tcat"), tcat)
    wrapper = os.path.join(tmp, "fasttext-wrap")
    with open(wrapper, "w") as f:
        f.write(FT_WRAPPER)
    os.chmod(wrapper, 0o755)

    peers_desc = []
    if a.peers == "run":
        peers_desc.append("run now by anchors.py on this machine (svm-word12, svm-char25, "
                          "ft-default%s)" % (", ft-autotune" if a.autotune_peers == "run" else ""))
    else:
        peers_desc.append("CACHED: rows of ../shared/peers/results.tsv and fasttext-speed.tsv "
                          "(one earlier run on a 2-core machine; no memory figures, not "
                          "this run)")
    if a.autotune_peers != a.peers:
        peers_desc.append("ft-autotune rows %s" % (
            "run now" if a.autotune_peers == "run" else
            "CACHED from ../shared/peers/results.tsv (not run now: the full run must fit "
            "in ~75 min)"))
    peers_desc.append("fastText autotune duration %d s" % a.ft_autotune)
    if a.budget_min > 0 and a.autotune_peers == "run":
        peers_desc.append("autotune rows run last and only while they fit in RUN_BUDGET = "
                          "%g min of total wall time" % a.budget_min)
    meta = {"corpora": corpora, "command": command_line(a), "machine": machine(),
            "versions": versions(tcat), "commit": git_state(a.root),
            "peers_desc": "; ".join(peers_desc), "method": METHOD, "streams": {},
            "tcat_time": a.time}
    la = os.getloadavg()
    meta["machine"] += "; load average at start %.2f %.2f %.2f" % la
    log("corpora: %s; tcat --time %s; peers %s (autotune: %s, %d s); scratch %s"
        % (" ".join(corpora), a.time, a.peers, a.autotune_peers, a.ft_autotune, tmp))

    rows = {}
    streams_of = {}

    def prepare(corpus):
        if corpus not in streams_of:
            wd = os.path.join(tmp, corpus)
            os.makedirs(wd, exist_ok=True)
            streams_of[corpus] = write_streams(os.path.join(a.corpora_dir, corpus), wd)
            meta["streams"][corpus] = {k: v for k, v in streams_of[corpus].items()
                                       if k in ("n_test", "n_stream", "stream_bytes", "reps")}
        return os.path.join(tmp, corpus), streams_of[corpus]

    def one(corpus, s, mode):
        wd, streams = prepare(corpus)
        try:
            if s == "tcat":
                r = run_tcat(a, tcat, corpus, os.path.join(a.corpora_dir, corpus), wd, streams,
                             score)
            elif mode == "cached":
                r = cached_peer(a, corpus, s)
            else:
                r = run_peer(a, corpus, s, wd, streams, wrapper)
        except Exception as e:
            log("%s: %s FAILED: %r" % (corpus, s, e))
            r = {"corpus": corpus, "system": s, "status": "failed", "source": "this run",
                 "error": repr(e)}
        rows[(corpus, s)] = r
        save_rows(rows_path, rows, meta)

    try:
        # pass 1: tcat and the quick peers, corpus by corpus
        for corpus in corpora:
            for s in SYSTEMS[:-1]:
                one(corpus, s, a.peers)
        # pass 2: fastText autotune (FT_AUTOTUNE seconds each), within RUN_BUDGET if set
        for corpus in corpora:
            mode = a.autotune_peers
            if mode == "run" and a.budget_min > 0:
                # observed on 2 cores: the search, the final training, anchors.py's own
                # predictions and ours took 1.1-1.8 x the duration (sst1, mpqa: ~1.75 x)
                est = 1.25 * a.ft_autotune + 60 + (90 if corpus in ("20news", "chnsenticorp")
                                                   else 0)
                left = a.budget_min * 60 - (time.time() - started)
                if est > left:
                    log("%s: ft-autotune would need ~%d s, %d s of the %g min budget left: "
                        "cached row instead" % (corpus, est, max(left, 0), a.budget_min))
                    mode = "cached"
                    meta.setdefault("budget_cached", []).append(corpus)
            one(corpus, "ft-autotune", mode)
            r = rows[(corpus, "ft-autotune")]
            if r.get("source") == "cached" and a.autotune_peers == "run":
                why = ("not run now: it would have ended after the %g min RUN_BUDGET"
                       % a.budget_min)
                r["cached_note"] = "; ".join(x for x in (why, r.get("cached_note")) if x)
                save_rows(rows_path, rows, meta)
    finally:
        cleanup()
    d = int(time.time() - started)
    meta["date"] = datetime.datetime.fromtimestamp(started, datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC")
    meta["duration"] = "%d min %02d s" % (d // 60, d % 60)
    meta["machine"] += ", at the end %.2f %.2f %.2f" % os.getloadavg()
    save_rows(rows_path, rows, meta)
    text = render(rows, meta)
    print(text)
    if not a.no_write:
        write_results(a.root, text)
        log("written to bench/RESULTS.md (raw rows: %s)" % os.path.relpath(rows_path, a.root))
    else:
        log("NO_WRITE: bench/RESULTS.md left alone (raw rows: %s)"
            % os.path.relpath(rows_path, a.root))


if __name__ == "__main__":
    main()
