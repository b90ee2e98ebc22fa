#!/usr/bin/env python3
"""Measures the ruler: CPU per evaluation of the deployment guide's HighErrorRate rule at 10, 100 and 1,000 copies,
and push latency and query time while they run.

A Release server (built by this script unless --bin is given) runs on a private directory with the perf config's
raised limits and a ruler whose rule directory this script fills. Data is the perf dataset's streams and line mix
(../shared/tools/lokiwire.py: 5 apps x --pods pods, django JSON, celery logfmt, nginx access, PostgreSQL, Redis),
but with timestamps near now: the rule reads the last 5 minutes, so the last 5 minutes are backfilled with
--window-mb MB of raw lines at start and a pusher keeps adding lines at the same rate while the rules run.

For each rule count N (0 first, as the baseline) the rule files are replaced, the script waits until the ruler has
loaded N rules and one full interval has passed, then for --seconds it samples the server's CPU time (/proc),
loki_prometheus_rule_evaluations_total and the group durations, while a probe pushes a small batch every 200 ms and
runs an instant query every 2 s. CPU-ms per evaluation = (CPU over the window - the N=0 CPU over the same length)
/ evaluations in the window.

  python3 benchmarks/ruler/ruler-bench.py                  # build, then 0/10/100/1000 rules, 64 MB per 5 minutes
  python3 benchmarks/ruler/ruler-bench.py --counts 0,1000 --seconds 60 --window-mb 32
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TREE = os.path.abspath(os.path.join(HERE, "..", ".."))
# ../shared next to the repository (or next to the worktrees' folder); SHARED overrides.
SHARED = os.environ.get("SHARED") or next((d for d in (os.path.join(TREE, "..", "shared"), os.path.join(TREE, "..", "..", "shared"))
                                          if os.path.isfile(os.path.join(d, "tools", "lokiwire.py"))), "shared")
sys.path.insert(0, os.path.join(SHARED, "tools"))
import lokiwire as w  # noqa: E402

RULE = 'sum(rate({app="django"} |= "error" [5m])) > 10'
QUERY = 'sum by (app) (count_over_time({namespace="jewelry-shop"} |~ "(?i)timeout" [5m]))'
CONFIG = """auth_enabled: false
server: {{http_listen_port: {port}, grpc_listen_port: {grpc}, log_level: warn}}
common: {{path_prefix: {dir}/data, replication_factor: 1}}
schema_config:
  configs:
    - {{from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {{prefix: index_, period: 24h}}}}
ingester: {{chunk_encoding: snappy}}
limits_config:
  ingestion_rate_mb: 100000
  ingestion_burst_size_mb: 200000
  per_stream_rate_limit: 10GB
  per_stream_rate_limit_burst: 20GB
  max_global_streams_per_user: 100000
  max_query_series: 100000
ruler:
  storage: {{type: local, local: {{directory: {dir}/rules}}}}
  evaluation_interval: {interval}s
  poll_interval: 1s
  enable_api: true
  wal: {{dir: {dir}/ruler-wal}}
"""


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric_sum(base, name):
    _, body = w.get(base, "/metrics")
    total = 0.0
    for m in re.finditer(rf"(?m)^{name}(?:{{[^}}]*}})? (\S+)$", body.decode()):
        total += float(m.group(1))
    return total


def rule_files(rules_dir, count):
    folder = os.path.join(rules_dir, "fake")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    if count == 0:
        return
    lines = ["groups:"]
    for g in range((count + 9) // 10):
        lines.append(f"  - name: shop-{g}")
        lines.append("    rules:")
        for i in range(g * 10, min(count, g * 10 + 10)):
            lines += [f"      - alert: HighErrorRate{i}", f"        expr: '{RULE}'", "        for: 5m",
                      "        labels: {severity: page}",
                      "        annotations: {summary: 'django logs {{ $value | humanize }} errors/s'}"]
    tmp = os.path.join(folder, ".bench.yaml")
    open(tmp, "w").write("\n".join(lines) + "\n")
    os.rename(tmp, os.path.join(folder, "bench.yaml"))


class Feed:
    """The perf dataset's streams with lines at a steady rate ending at now."""

    def __init__(self, base, pods, window_mb):
        self.base = base
        self.rnd = random.Random(11)
        self.streams = []
        for app, gen, deploy in w.APPS:
            for p in range(pods):
                labels = {"namespace": "jewelry-shop", "app": app, "pod": f"{deploy}-{p}", "container": app, "job": f"jewelry-shop/{app}"}
                self.streams.append((labels, gen))
        self.bytes_per_s = window_mb * 2**20 / 300
        self.i = 0
        self.errors = 0

    def push_span(self, start_ns, end_ns):
        target = self.bytes_per_s * (end_ns - start_ns) / 1e9
        batch, size = {}, 0
        while size < target:
            labels, gen = self.streams[self.i % len(self.streams)]
            _, line = gen(self.rnd, self.i)
            ts = start_ns + int((end_ns - start_ns) * size / target)
            batch.setdefault(self.i % len(self.streams), (labels, []))[1].append((ts, line, None))
            size += len(line)
            self.i += 1
            if size >= target or sum(len(e) for _, e in batch.values()) >= 8000:
                code, body = w.push(self.base, list(batch.values()))
                if code != 204:
                    self.errors += 1
                    print("push failed", code, body[:200], file=sys.stderr)
                batch = {}
        return size

    def run(self, stop):
        last = time.time_ns()
        while not stop.is_set():
            time.sleep(1)
            now = time.time_ns()
            self.push_span(last, now)
            last = now


def probe(base, seconds):
    push_ms, query_ms = [], []
    end = time.time() + seconds
    next_query = 0.0
    while time.time() < end:
        now = time.time_ns()
        t = time.perf_counter()
        w.push(base, [({"namespace": "jewelry-shop", "app": "probe"}, [(now + k, f"probe line {k}", None) for k in range(10)])])
        push_ms.append((time.perf_counter() - t) * 1000)
        if time.time() >= next_query:
            t = time.perf_counter()
            code, _ = w.get(base, "/loki/api/v1/query", {"query": QUERY, "time": str(time.time_ns())})
            query_ms.append((time.perf_counter() - t) * 1000)
            if code != 200:
                print("query failed", code, file=sys.stderr)
            next_query = time.time() + 2
        time.sleep(0.2)
    return push_ms, query_ms


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p))] if s else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", help="a built server directory (lokisharp.dll); default: build Release from this tree")
    ap.add_argument("--port", type=int, default=3400)
    ap.add_argument("--counts", default="0,10,100,1000")
    ap.add_argument("--interval", type=int, default=30, help="evaluation_interval in seconds")
    ap.add_argument("--seconds", type=int, default=90, help="measurement window per rule count")
    ap.add_argument("--window-mb", type=float, default=64, help="raw MB of lines in the rule's 5 minute window")
    ap.add_argument("--pods", type=int, default=20)
    ap.add_argument("--out")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="lokisharp-ruler-bench-")
    bin_dir = args.bin
    if not bin_dir:
        bin_dir = os.path.join(work, "bin")
        subprocess.run(["dotnet", "build", "-c", "Release", os.path.join(TREE, "src", "Server"), "-o", bin_dir, "-v", "q", "-nologo"],
                       check=True, stdout=subprocess.DEVNULL)
    open(os.path.join(work, "loki.yaml"), "w").write(CONFIG.format(port=args.port, grpc=args.port + 1, dir=work, interval=args.interval))
    os.makedirs(os.path.join(work, "rules", "fake"))
    log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen(["dotnet", os.path.join(bin_dir, "lokisharp.dll"), "-config.file=" + os.path.join(work, "loki.yaml")],
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{args.port}"
    stop = threading.Event()
    results = {"window_mb": args.window_mb, "interval_s": args.interval, "seconds": args.seconds, "rule": RULE, "runs": []}
    try:
        if not w.wait_ready(base):
            raise SystemExit("server not ready; see " + log.name)
        feed = Feed(base, args.pods, args.window_mb)
        now = time.time_ns()
        t = time.time()
        backfilled = feed.push_span(now - 300 * 10**9, now)
        print(f"backfilled {backfilled / 2**20:.1f} MB in {time.time() - t:.1f}s", file=sys.stderr)
        pusher = threading.Thread(target=feed.run, args=(stop,), daemon=True)
        pusher.start()
        baseline_cpu_per_s = None
        for count in [int(c) for c in args.counts.split(",")]:
            rule_files(os.path.join(work, "rules"), count)
            while metric_sum(base, "loki_prometheus_rule_group_rules") != count:
                time.sleep(0.5)
            time.sleep(args.interval + 2)
            cpu0, evals0, missed0, t0 = (cpu_seconds(server.pid), metric_sum(base, "loki_prometheus_rule_evaluations_total"),
                                         metric_sum(base, "loki_prometheus_rule_group_iterations_missed_total"), time.time())
            push_ms, query_ms = probe(base, args.seconds)
            cpu1, evals1, missed1, t1 = (cpu_seconds(server.pid), metric_sum(base, "loki_prometheus_rule_evaluations_total"),
                                         metric_sum(base, "loki_prometheus_rule_group_iterations_missed_total"), time.time())
            cpu_per_s = (cpu1 - cpu0) / (t1 - t0)
            if baseline_cpu_per_s is None:
                baseline_cpu_per_s = cpu_per_s
            evals = evals1 - evals0
            run = {
                "rules": count,
                "evaluations": evals,
                "cpu_s_per_s": round(cpu_per_s, 3),
                "cpu_ms_per_evaluation": round((cpu_per_s - baseline_cpu_per_s) * (t1 - t0) * 1000 / evals, 2) if evals else None,
                "group_duration_s_per_slot": round(metric_sum(base, "loki_prometheus_rule_group_last_duration_seconds"), 3),
                "iterations_missed": missed1 - missed0,
                "push_ms_p50": round(pct(push_ms, 0.5), 1), "push_ms_p99": round(pct(push_ms, 0.99), 1), "push_ms_max": round(max(push_ms), 1),
                "query_ms_p50": round(pct(query_ms, 0.5), 1), "query_ms_max": round(max(query_ms), 1),
                "load": open("/proc/loadavg").read().split()[:3],
            }
            results["runs"].append(run)
            print(json.dumps(run), file=sys.stderr)
        results["feed_push_errors"] = feed.errors
    finally:
        stop.set()
        server.terminate()
        server.wait(60)
    print(json.dumps(results, indent=1))
    if args.out:
        json.dump(results, open(args.out, "w"), indent=1)
    print("server log and data: " + work, file=sys.stderr)


if __name__ == "__main__":
    main()
