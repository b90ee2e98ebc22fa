#!/usr/bin/env python3
"""Needle searches back to back: each of queries.py's needle queries RUNS times in a row against a running server, and
the medians (and lower quartiles) of the wall time and of the engine's own execTime (the answer's stats), over the
runs after the first fifth (which fill the caches searches build). Steadier than queries.py's 20 runs, which scrape
/metrics and /proc between runs, for comparing builds on the needle path.

  needle-loop.py --url URL --mb 512|2048 [--runs 150]
"""
import argparse
import json
import statistics
import time
import urllib.parse
import urllib.request

import queries


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--mb", type=int, default=512)
    ap.add_argument("--runs", type=int, default=150)
    args = ap.parse_args()
    folder = f"/tmp/perfdata-{args.mb}"
    t0, t1 = queries.query_range(json.load(open(f"{folder}/meta.json")))
    for name, kind, q in queries.needle_queries(queries.pick_needles(folder)):
        if kind == "needle_logs":
            path, params = "/loki/api/v1/query_range", {"query": q, "start": t0, "end": t1, "limit": 100}
        else:
            path, params = "/loki/api/v1/query", {"query": q, "time": t1}
        walls, execs = [], []
        for _ in range(args.runs):
            t = time.perf_counter()
            body = urllib.request.urlopen(args.url + path + "?" + urllib.parse.urlencode(params), timeout=60).read()
            walls.append((time.perf_counter() - t) * 1000)
            answer = json.loads(body)["data"]
            execs.append(answer["stats"]["summary"]["execTime"] * 1000)
        # A build that finds nothing fast is no faster: the needle occurs exactly once.
        result = answer["result"]
        found = sum(len(r["values"]) for r in result) if kind == "needle_logs" else sum(float(r["value"][1]) for r in result)
        if found != 1:
            raise SystemExit(f"{name}: found {found} entries, expected 1")
        w, e = sorted(walls[args.runs // 5:]), sorted(execs[args.runs // 5:])
        print(f"{name:18} wall med {statistics.median(w):6.3f} p25 {w[len(w) // 4]:6.3f} ms   "
              f"exec med {statistics.median(e):6.3f} p25 {e[len(e) // 4]:6.3f} ms")


if __name__ == "__main__":
    main()
