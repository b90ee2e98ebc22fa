#!/usr/bin/env python3
"""The perf workload (../shared/tools/perf.py's data and queries) through several writers and one reader.

  scaleout.py --writers URL=PID[,URL=PID...] --reader URL=PID --mb 512 [--conc 4] [--out FILE]

Pushes every pre-encoded batch of `perf.py gen --mb N` with the same 4-connection client as perf.py, each batch to
the next writer in turn (what a gateway in front of a write StatefulSet does), and records the writers' CPU
seconds, the push latency (p50/p99) and the rate. Then flushes every writer and runs perf.py's queries through the
reader: the first run of each query (cold: the reader has not read those chunks yet) and the median of three more
(warm: its chunk cache holds them), with the reader's CPU per query. With one writer that is also the reader it
measures the single binary the same way.
"""
import argparse
import http.client
import json
import os
import queue
import sys
import threading
import time
import urllib.parse

shared = os.environ.get("SHARED", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared"))
sys.path.insert(0, os.path.join(shared, "tools"))
import perf  # noqa: E402
import lokiwire as w  # noqa: E402


def endpoints(text):
    out = []
    for item in text.split(","):
        url, pid = item.rsplit("=", 1)
        out.append((url, int(pid)))
    return out


def ingest(writers, folder, conc):
    files = sorted(f for f in os.listdir(folder) if f.endswith(".bin"))
    work = queue.Queue()
    for i, f in enumerate(files):
        work.put((writers[i % len(writers)][0], os.path.join(folder, f)))
    latencies, errors, lock = [], [], threading.Lock()

    def worker():
        conns = {}
        while True:
            try:
                url, path = work.get_nowait()
            except queue.Empty:
                return
            u = urllib.parse.urlparse(url)
            body = open(path, "rb").read()
            for attempt in range(20):
                conn = conns.get(url) or conns.setdefault(url, http.client.HTTPConnection(u.hostname, u.port, timeout=300))
                try:
                    t = time.perf_counter()
                    conn.request("POST", "/loki/api/v1/push", body, {"Content-Type": "application/x-protobuf"})
                    r = conn.getresponse()
                    data = r.read()
                    elapsed = time.perf_counter() - t
                    if r.status == 429:
                        time.sleep(0.2)
                        continue
                    with lock:
                        if r.status // 100 == 2:
                            latencies.append(elapsed)
                        else:
                            errors.append((r.status, data[:200]))
                    break
                except (ConnectionError, http.client.HTTPException, OSError) as e:
                    conn.close()
                    conns.pop(url, None)
                    if attempt == 19:
                        errors.append((0, str(e)))

    threads = [threading.Thread(target=worker) for _ in range(conc)]
    t = time.time()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.time() - t, sorted(latencies), errors


def percentile(values, p):
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--writers", required=True)
    ap.add_argument("--reader", required=True)
    ap.add_argument("--mb", type=int, default=512)
    ap.add_argument("--conc", type=int, default=4)
    ap.add_argument("--settle", type=float, default=15, help="seconds for readers to see the flushed index")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    writers, (reader_url, reader_pid) = endpoints(args.writers), endpoints(args.reader)[0]

    folder = perf.gen(args.mb)
    meta = json.load(open(os.path.join(folder, "meta.json")))
    res = {"writers": len(writers), "raw_mb": meta["raw_bytes"] / 2**20, "lines": meta["lines"]}
    cpu0 = [perf.cpu_seconds(pid) for _, pid in writers]
    wall, latencies, errors = ingest(writers, folder, args.conc)
    cpu = sum(perf.cpu_seconds(pid) - c for (_, pid), c in zip(writers, cpu0))
    res["ingest_wall_s"] = wall
    res["ingest_cpu_s"] = cpu
    res["ingest_cpu_s_per_gb"] = cpu / (res["raw_mb"] / 1024)
    res["ingest_mb_per_s"] = res["raw_mb"] / wall
    res["push_p50_ms"] = percentile(latencies, 0.50) * 1000
    res["push_p99_ms"] = percentile(latencies, 0.99) * 1000
    res["push_errors"] = len(errors)
    if errors:
        res["first_error"] = str(errors[0])[:200]
    res["writer_rss_after_ingest_mb"] = [perf.rss_now_mb(pid) for _, pid in writers]

    for url, _ in writers:
        w.http("POST", url + "/flush", b"", timeout=600)
    time.sleep(args.settle)

    t0, t1 = meta["t0"], meta["t1"] + 60 * 10**9
    for name, kind, q in perf.QUERIES:
        c0 = perf.cpu_seconds(reader_pid)
        t = time.time()
        code, body = perf.run_query(reader_url, kind, q, t0, t1)
        res[f"q_{name}_cold_s"] = time.time() - t
        res[f"q_{name}_cold_cpu_s"] = perf.cpu_seconds(reader_pid) - c0
        times = []
        for _ in range(3):
            t = time.time()
            code, body = perf.run_query(reader_url, kind, q, t0, t1)
            times.append(time.time() - t)
        res[f"q_{name}_warm_s"] = sorted(times)[1]
        res[f"q_{name}_status"] = code
        res[f"q_{name}_bytes"] = len(body)
    res["reader_rss_peak_mb"] = perf.rss_peak_mb(reader_pid)
    print(json.dumps(res, indent=1))
    if args.out:
        json.dump(res, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
