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
    meta = json.load(open(f"{folder}/meta.json"))
    t0, t1 = meta["t0"], meta["t1"] + 60 * 10**9
    for name, value, _ in queries.pick_needles(folder):
        sel = '{namespace="jewelry-shop"} |= "' + value + '"'
        for kind, path, params in (
                ("logs", "/loki/api/v1/query_range", {"query": sel, "start": t0, "end": t1, "limit": 100}),
                ("count", "/loki/api/v1/query", {"query": f"sum(count_over_time({sel} [3h]))", "time": t1})):
            walls, execs = [], []
            for _ in range(args.runs):
                t = time.perf_counter()
                body = urllib.request.urlopen(args.url + path + "?" + urllib.parse.urlencode(params), timeout=60).read()
                walls.append((time.perf_counter() - t) * 1000)
                execs.append(json.loads(body)["data"]["stats"]["summary"]["execTime"] * 1000)
            w, e = sorted(walls[args.runs // 5:]), sorted(execs[args.runs // 5:])
            print(f"needle_{name}_{kind:6} wall med {statistics.median(w):6.3f} p25 {w[len(w) // 4]:6.3f} ms   "
                  f"exec med {statistics.median(e):6.3f} p25 {e[len(e) // 4]:6.3f} ms")


if __name__ == "__main__":
    main()
