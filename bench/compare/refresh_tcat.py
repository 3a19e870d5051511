#!/usr/bin/python3
"""bench/compare/refresh_tcat.py -- rerun only tcat's rows of a saved compare run.

A full bench/compare run takes over an hour, mostly fastText autotune. When
tcat changes afterwards, this reruns tcat alone, with the current binary and
the same method (compare.run_tcat), on the corpora of the saved rows
(build/bench/compare-rows.json), keeps the peers' rows as that run measured
them, and rewrites the compare section of bench/RESULTS.md, saying which rows
come from when.

    /usr/bin/python3 bench/compare/refresh_tcat.py [--time 5m] [--corpora "mr trec"]
"""
import json
import os
import shutil
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
corpora_dir = os.path.normpath(os.path.join(root, "..", "shared", "corpora"))
peers_dir = os.path.normpath(os.path.join(root, "..", "shared", "peers"))
sys.path.insert(0, here)
extra = sys.argv[1:]
sys.argv = [sys.argv[0], "--root", root, "--corpora-dir", corpora_dir, "--peers-dir",
            peers_dir] + extra
import compare as C  # noqa: E402

a = C.settings()
rows_path = os.path.join(root, "build", "bench", "compare-rows.json")
with open(rows_path) as f:
    data = json.load(f)
meta = data["meta"]
rows = {(r["corpus"], r["system"]): r for r in data["rows"]}
corpora = C.corpus_list(a) if a.corpora else meta["corpora"]
sys.path.insert(0, peers_dir)
import score  # noqa: E402  the one scorer

tmp = tempfile.mkdtemp(prefix="tcat-refresh.", dir=os.environ.get("TMPDIR", "/tmp"))
try:
    tcat = os.path.join(tmp, "tcat")
    shutil.copy2(os.path.join(root, "tcat"), tcat)
    for corpus in corpora:
        wd = os.path.join(tmp, corpus)
        os.makedirs(wd, exist_ok=True)
        streams = C.write_streams(os.path.join(corpora_dir, corpus), wd)
        rows[(corpus, "tcat")] = C.run_tcat(a, tcat, corpus, os.path.join(corpora_dir, corpus),
                                            wd, streams, score)
        C.save_rows(rows_path, rows, meta)
    peers_run = meta.get("refreshed_from", meta.get("command", ""))
    meta["refreshed_from"] = peers_run
    base = meta.setdefault("peers_desc_base", meta["peers_desc"])  # before any refresh
    meta["peers_desc"] = (base + "; peer rows as measured by the full run (%s); "
                          "tcat rows rerun on %s with the commit below by "
                          "bench/compare/refresh_tcat.py" % (peers_run,
                                                             time.strftime("%Y-%m-%d %H:%M UTC",
                                                                           time.gmtime())))
    meta["commit"] = C.git_state(root)
    meta["versions"] = C.versions(tcat)
    meta["command"] = "/usr/bin/python3 bench/compare/refresh_tcat.py " + " ".join(extra)
    C.save_rows(rows_path, rows, meta)
    text = C.render(rows, meta)
    print(text)
    if not a.no_write:
        C.write_results(root, text)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
