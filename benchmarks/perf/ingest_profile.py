"""Ingest-only measuring for the write path (see ingest-profile.sh).

ingest:   pushes /tmp/perfdata-<mb> (or --data DIR) with perf.py's own 4-connection client and prints the server's CPU-s
          per GB raw.
          With --wal it also samples, once a second, the server's CPU and the bytes its WAL holds (progress read from
          disk, so the server does no extra work) and prints that timeline, the CPU-s per WAL GB of the first and the
          second half of the run (a warm-up or other fixed cost shows as a dearer first half) and the context switches
          of the server's threads by thread name.
classify: splits a `perf record -g` profile of the server into write-path stages. Each sample goes to the stage of the
          frame nearest its leaf that names one (so time in the kernel or CoreLib called from the WAL counts as WAL),
          JIT and runtime-native leaves go to their own rows, and the rest is listed by leaf.
ab-summary: summarises the runs ingest-ab.sh wrote: per build, and per pair (B minus A).
small-pushes: what a push costs apart from its lines: --pushes JSON pushes of --lines short lines each, over 4
          connections as perf.py's client uses, after a quarter as many to warm up; prints the server's CPU per push.
regroup:  writes the lines of /tmp/perfdata-<mb> again as pushes of --take entries per stream (perf.py: 12 from every
          stream) and about the same raw bytes per push, into /tmp/perfdata-<mb>-take<N>: same lines, same number of
          pushes, N/12 times fewer (push, stream) pairs. Ingesting both with `DATA=...` tells what the server pays per
          stream of a push (lookups, locks, WAL label text, a head run) apart from what it pays per line and per push.
"""
import argparse
import collections
import http.client
import importlib
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

STAGES = [
    ("content-index build", r"ContentIndex|NGramFilter"),
    ("level detection", r"LevelDetector"),
    ("WAL fsync", r"fsync|FlushToDisk"),
    ("WAL encode+write", r"WriteAheadLog|WalRecord|LogAsync|Crc32C"),
    ("chunk cut/flush", r"StreamIngester::Flush|FlushAsync|ChunkStore|FlushLoop"),
    ("head append/compress", r"HeadBlock|ChunkBuilder|ColumnarBlock|SnappyCompressor|HeadStream|StreamIngester::Apply"),
    ("decode snappy+protobuf", r"ReadAsync|PushBody|ProtobufPushDecoder|SnappyDecompressor|BoundedDecompression|PushBatch"),
    ("validation/distributor", r"PushValidator|StreamIngester::Admit|StreamIngester::GetOrCreate|PushAsync|PushPipeline"),
    ("ASP.NET/Kestrel/sockets", r"Kestrel|AspNetCore|System\.Net|Sockets|Pipelines|epoll|tcp_|sock_"),
    ("thread-pool spin/idle", r"LowLevelSpinWaiter|LowLevelLifoSemaphore|sched_yield"),
]


def wal_bytes(wal):
    total = 0
    for name in os.listdir(wal):
        if name.endswith(".wal"):
            try:
                total += os.path.getsize(os.path.join(wal, name))
            except OSError:
                pass  # a segment deleted after a flush
    return total


def thread_switches(pid):
    """Voluntary and involuntary context switches per thread name (the runtime names its threads)."""
    by_name = collections.defaultdict(lambda: [0, 0])
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
            for line in open(f"/proc/{pid}/task/{tid}/status"):
                if line.startswith("voluntary_ctxt_switches"):
                    by_name[name][0] += int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches"):
                    by_name[name][1] += int(line.split()[1])
        except OSError:
            pass  # the thread ended
    return by_name


def jitted_methods(perf_map):
    """The perf map's JIT-compiled methods so far, in compile order (None without a map)."""
    if not os.path.exists(perf_map):
        return None
    with open(perf_map) as f:
        return [line.split(" ", 2)[2].rstrip() for line in f if "[Optimized]" in line or "[OptimizedTier1]" in line]


def declaring_assembly(method):
    """The assembly of a perf map method's declaring type: the bracket right before "Type::Name" (a return type's is
    earlier and glued to its type name)."""
    found = re.search(r"\[([\w.]+)\] \S+?::", method)
    return found.group(1) if found else "?"


def print_timeline(samples, switches0, switches1):
    print("timeline (s, server CPU-s in the second, WAL MB written in it, CPU-s per WAL GB):")
    for (t0, c0, w0), (t1, c1, w1) in zip(samples, samples[1:]):
        mb = (w1 - w0) / 2**20
        print(f"  {t1:5.1f} {c1 - c0:5.2f} {mb:7.1f} {(c1 - c0) / max(mb, 0.01) * 1024:7.2f}")
    _, c_end, w_end = samples[-1]
    half = next((s for s in samples if s[2] >= w_end / 2), samples[-1])
    c_start, w_start = samples[0][1], samples[0][2]
    first = (half[1] - c_start) / max(half[2] - w_start, 1) * 2**30
    second = (c_end - half[1]) / max(w_end - half[2], 1) * 2**30
    print(f"CPU-s per WAL GB: first half {first:.2f}, second half {second:.2f}")
    print("context switches during the ingest (voluntary, involuntary) by thread name:")
    for name, (v, n) in sorted(switches1.items(), key=lambda kv: -sum(kv[1])):
        v0, n0 = switches0.get(name, (0, 0))
        if v - v0 or n - n0:
            print(f"  {name:20s} {v - v0:7d} {n - n0:7d}")


def shared_tool(shared, name):
    """A module of ../shared/tools: perf (the load tool: the reference runs' client and CPU sampling) or lokiwire."""
    sys.path.insert(0, os.path.join(shared, "tools"))
    return importlib.import_module(name)


def ingest(args):
    perf = shared_tool(args.shared, "perf")

    folder = args.data or f"/tmp/perfdata-{args.mb}"
    meta = json.load(open(os.path.join(folder, "meta.json")))
    raw_mb = meta["raw_bytes"] / 2**20
    samples = []
    done = threading.Event()

    def sample():
        start = time.time()
        while True:
            samples.append((time.time() - start, perf.cpu_seconds(args.pid), wal_bytes(args.wal)))
            if done.wait(1.0):
                samples.append((time.time() - start, perf.cpu_seconds(args.pid), wal_bytes(args.wal)))
                return

    # With a perf map (PROFILE=1) every JIT-compiled method is a line of it: the lines added meanwhile are the JIT work
    # the ingest paid (TieredCompilation is off, so each is compiled once, fully optimized, at its first call).
    perf_map = f"/tmp/perf-{args.pid}.map"
    jitted0 = jitted_methods(perf_map)
    sampler = threading.Thread(target=sample) if args.wal else None
    switches0 = thread_switches(args.pid)
    cpu0 = perf.cpu_seconds(args.pid)
    if sampler:
        sampler.start()
    wall, errors = perf.ingest(args.url, folder, 4)
    cpu = perf.cpu_seconds(args.pid) - cpu0
    done.set()
    if sampler:
        sampler.join()
        print_timeline(samples, switches0, thread_switches(args.pid))
    if jitted0 is not None:
        jitted = jitted_methods(perf_map)[len(jitted0):]
        by_assembly = collections.Counter(declaring_assembly(m) for m in jitted)
        print(f"methods JIT-compiled during the ingest: {len(jitted)}; by assembly: "
              + ", ".join(f"{name} {n}" for name, n in by_assembly.most_common(8)))
        if args.jit_list:
            with open(args.jit_list, "w") as f:
                f.writelines(m + "\n" for m in jitted)
    print(json.dumps({"raw_mb": round(raw_mb, 1), "ingest_wall_s": round(wall, 2), "ingest_cpu_s": round(cpu, 2),
                      "ingest_cpu_s_per_gb": round(cpu / (raw_mb / 1024), 2), "push_errors": len(errors),
                      "rss_after_ingest_mb": round(perf.rss_now_mb(args.pid))}))


def small_pushes(args):
    perf = shared_tool(args.shared, "perf")

    url = urllib.parse.urlparse(args.url)
    start_ns = time.time_ns()

    def push(worker, count, offset):
        connection = http.client.HTTPConnection(url.hostname, url.port)
        for i in range(count):
            ts = start_ns + (offset + i) * 1000
            values = [[str(ts + j), f"level=info msg=\"small push\" worker={worker} push={i} line={j}"] for j in range(args.lines)]
            body = json.dumps({"streams": [{"stream": {"app": "small-pushes", "worker": str(worker)}, "values": values}]})
            connection.request("POST", "/loki/api/v1/push", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            if response.status != 204:
                raise SystemExit(f"push answered {response.status}")
        connection.close()

    def run(count, offset):
        workers = [threading.Thread(target=push, args=(w, count // 4, offset + w * count)) for w in range(4)]
        cpu0, wall0 = perf.cpu_seconds(args.pid), time.time()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return perf.cpu_seconds(args.pid) - cpu0, time.time() - wall0

    run(args.pushes // 4, 0)
    cpu, wall = run(args.pushes, args.pushes)
    print(json.dumps({"pushes": args.pushes, "lines_per_push": args.lines, "wall_s": round(wall, 2),
                      "server_cpu_s": round(cpu, 2), "server_cpu_ms_per_push": round(1000 * cpu / args.pushes, 3)}))


def classify(args):
    out = subprocess.run(["perf", "script", "-i", args.data, "-F", "comm,ip,sym,dso"],
                         capture_output=True, text=True, check=True).stdout
    stages = [(name, re.compile(pattern)) for name, pattern in STAGES]
    counts = collections.Counter()
    total = 0
    stack = []

    def account():
        nonlocal total
        if not stack:
            return
        total += 1
        leaf = stack[0]
        if "libclrjit" in leaf:
            counts["JIT"] += 1
            return
        if "libcoreclr" in leaf:
            counts["runtime native (GC, JIT-side VM, stubs)"] += 1
            return
        for frame in stack:
            for name, pattern in stages:
                if pattern.search(frame):
                    counts[name] += 1
                    return
        counts["other: " + leaf.split(None, 1)[-1][:80]] += 1

    for line in out.splitlines():
        if line.startswith("\t"):
            stack.append(line.strip())
        else:
            account()
            stack = []
    account()
    for name, count in counts.most_common(args.top):
        print(f"{100 * count / max(total, 1):6.2f}%  {name}")
    print(f"samples: {total}")


def regroup(args):
    w = shared_tool(args.shared, "lokiwire")  # the wire helpers perf.py generates its data with

    meta = json.load(open(f"/tmp/perfdata-{args.mb}/meta.json"))
    out = f"/tmp/perfdata-{args.mb}-take{args.take}"
    os.makedirs(out, exist_ok=True)
    # perf.py gen's own dataset call, so the lines, streams and timestamps are the same.
    per_stream = max(200, args.mb * 1024 * 1024 // 160 // 100)
    streams = w.dataset(11, meta["t0"], meta["t1"], pods_per_app=20, lines_per_stream=per_stream)
    per_push = meta["raw_bytes"] / meta["batches"]
    cursors = [0] * len(streams)
    batches = raw = lines = 0
    turn = 0
    while raw < meta["raw_bytes"]:
        # Streams in turn, --take entries each, until the pushes so far hold perf.py's mean raw bytes per push.
        batch, size, empty = [], 0, 0
        while raw + size < (batches + 1) * per_push and empty < len(streams):
            labels, entries = streams[turn % len(streams)]
            taken = entries[cursors[turn % len(streams)]:cursors[turn % len(streams)] + args.take]
            cursors[turn % len(streams)] += len(taken)
            turn += 1
            empty = 0 if taken else empty + 1
            if taken:
                batch.append((labels, taken))
                size += sum(len(e[1]) for e in taken)
        if not batch:
            break
        with open(os.path.join(out, f"b{batches:06d}.bin"), "wb") as f:
            f.write(w.snappy_literal(w.encode_push_proto(batch)))
        batches += 1
        raw += size
        lines += sum(len(e) for _, e in batch)
    if (raw, lines) != (meta["raw_bytes"], meta["lines"]):
        sys.exit(f"regrouped {raw} bytes in {lines} lines, but /tmp/perfdata-{args.mb} holds {meta['raw_bytes']} in {meta['lines']}")
    json.dump(dict(meta, batches=batches), open(os.path.join(out, "meta.json"), "w"))
    print(f"{out}: {batches} pushes (perf.py: {meta['batches']}), {lines} lines, {raw} bytes raw")


def ab_summary(args):
    runs = [json.loads(line) for line in open(args.runs) if line.strip()]
    by_build = collections.defaultdict(dict)
    for r in runs:
        by_build[r["build"]][r["pair"]] = r
    for build in sorted(by_build):
        cpu = [r["run"]["ingest_cpu_s_per_gb"] for r in by_build[build].values()]
        rss = [r["run"]["rss_after_ingest_mb"] for r in by_build[build].values()]
        load = [r["load1"] for r in by_build[build].values()]
        print(f"{build}: n={len(cpu)} CPU-s/GB median {statistics.median(cpu):.2f} mean {statistics.mean(cpu):.2f} "
              f"range {min(cpu):.2f}-{max(cpu):.2f}; RSS {min(rss)}-{max(rss)} MB; load {min(load):.1f}-{max(load):.1f}")
    pairs = sorted(set(by_build["A"]) & set(by_build["B"]))
    if pairs:
        diffs = [by_build["B"][p]["run"]["ingest_cpu_s_per_gb"] - by_build["A"][p]["run"]["ingest_cpu_s_per_gb"]
                 for p in pairs]
        median_a = statistics.median(by_build["A"][p]["run"]["ingest_cpu_s_per_gb"] for p in pairs)
        print(f"B - A over {len(pairs)} pairs: median {statistics.median(diffs):+.2f} CPU-s/GB "
              f"({100 * statistics.median(diffs) / median_a:+.1f}% of A's median), mean {statistics.mean(diffs):+.2f}; "
              f"B cheaper in {sum(d < 0 for d in diffs)} of {len(pairs)}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("ingest")
    i.add_argument("--shared", required=True)
    i.add_argument("--url", required=True)
    i.add_argument("--pid", type=int, required=True)
    i.add_argument("--mb", type=int, default=512)
    i.add_argument("--wal", help="the server's WAL directory: also print the timeline and context switches")
    i.add_argument("--data", help="the batches to push (default /tmp/perfdata-<mb>)")
    i.add_argument("--jit-list", help="with a perf map: write the methods JIT-compiled during the ingest to this file")
    c = sub.add_parser("classify")
    c.add_argument("data")
    c.add_argument("--top", type=int, default=20)
    s = sub.add_parser("ab-summary")
    s.add_argument("runs", help="the JSON lines ingest-ab.sh wrote")
    g = sub.add_parser("regroup")
    g.add_argument("--shared", required=True)
    g.add_argument("--mb", type=int, default=512)
    g.add_argument("--take", type=int, default=120)
    p = sub.add_parser("small-pushes")
    p.add_argument("--shared", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--pushes", type=int, default=4000)
    p.add_argument("--lines", type=int, default=1)
    args = ap.parse_args()
    {"ingest": ingest, "classify": classify, "ab-summary": ab_summary, "regroup": regroup, "small-pushes": small_pushes}[args.cmd](args)


if __name__ == "__main__":
    main()
