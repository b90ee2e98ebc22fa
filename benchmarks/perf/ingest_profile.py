"""Ingest-only measuring for the write path (see ingest-profile.sh).

ingest:   pushes /tmp/perfdata-<mb> with perf.py's own 4-connection client and prints the server's CPU-s per GB raw.
classify: splits a `perf record -g` profile of the server into write-path stages. Each sample goes to the stage of the
          frame nearest its leaf that names one (so time in the kernel or CoreLib called from the WAL counts as WAL),
          JIT and runtime-native leaves go to their own rows, and the rest is listed by leaf.
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys

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


def ingest(args):
    sys.path.insert(0, os.path.join(args.shared, "tools"))
    import perf  # noqa: E402  (the shared load tool: same client, same CPU sampling)

    folder = f"/tmp/perfdata-{args.mb}"
    meta = json.load(open(os.path.join(folder, "meta.json")))
    raw_mb = meta["raw_bytes"] / 2**20
    cpu0 = perf.cpu_seconds(args.pid)
    wall, errors = perf.ingest(args.url, folder, 4)
    cpu = perf.cpu_seconds(args.pid) - cpu0
    print(json.dumps({"raw_mb": round(raw_mb, 1), "ingest_wall_s": round(wall, 2), "ingest_cpu_s": round(cpu, 2),
                      "ingest_cpu_s_per_gb": round(cpu / (raw_mb / 1024), 2), "push_errors": len(errors),
                      "rss_after_ingest_mb": round(perf.rss_now_mb(args.pid))}))


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


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("ingest")
    i.add_argument("--shared", required=True)
    i.add_argument("--url", required=True)
    i.add_argument("--pid", type=int, required=True)
    i.add_argument("--mb", type=int, default=512)
    c = sub.add_parser("classify")
    c.add_argument("data")
    c.add_argument("--top", type=int, default=20)
    args = ap.parse_args()
    ingest(args) if args.cmd == "ingest" else classify(args)


if __name__ == "__main__":
    main()
