#!/usr/bin/env python3
"""Per-query cost of a running server over /tmp/perfdata-<mb>: perf.py's queries plus needle searches.

  queries.py --url URL --pid PID --mb 512 [--ingest] [--shared DIR] [--out FILE.json] [--repeat 1]

With --ingest it first pushes the dataset (perf.py's ingest: same batches, 4 connections), so the queries read what
the head holds (and what it flushed on its own during ingest), as perf.py's queries do; without it the server must
already hold the dataset (e.g. after perf.py run, which flushes at its end: then the queries read the store).
A needle is a django request_id (16 hex digits) that occurs exactly once in the dataset: picked from the decoded
batches at fixed positions (middle and last batch) and checked to occur once over all of them. Each needle is
searched over all streams as a log query (limit 100) and as an instant sum(count_over_time(...[3h])).

For every query: wall s, server CPU-s (utime+stime from /proc/PID/stat), peak RSS during the query (VmHWM after
`echo 5 > /proc/PID/clear_refs` reset it to the current RSS, which is also printed: memory the GC kept from earlier
queries counts in both), the response's stats (bytes and lines processed,
chunks) and what the server's block readers did (loki_lokisharp_query_blocks_total / _block_bytes_total from /metrics:
blocks considered, skipped by time, skipped by content filter, decoded; compressed bytes of the decoded ones).
Standard library only; imports perf.py and lokiwire.py from --shared/tools.
"""
import argparse
import json
import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))


def load_shared(shared):
    sys.path.insert(0, os.path.join(shared, "tools"))
    import perf  # noqa: E402
    import lokiwire  # noqa: E402
    return perf, lokiwire


def unsnappy_literal(data):
    """Decodes the literal-only snappy blocks lokiwire.snappy_literal writes (all that perf.py gen produces)."""
    pos, length, shift = 0, 0, 0
    while True:
        b = data[pos]
        pos += 1
        length |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            break
    out = bytearray()
    while pos < len(data):
        tag = data[pos]
        if tag & 3 != 0:
            raise ValueError("not a literal-only snappy block")
        n = tag >> 2
        pos += 1
        if n == 60:
            n = data[pos]
            pos += 1
        elif n == 61:
            n = data[pos] | (data[pos + 1] << 8)
            pos += 2
        elif n > 61:
            raise ValueError("literal length form not produced by snappy_literal")
        out += data[pos:pos + n + 1]
        pos += n + 1
    if len(out) != length:
        raise ValueError("snappy length mismatch")
    return bytes(out)


def batches(folder):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".bin"))


def request_id_in(payload):
    """The first django request_id in a decoded PushRequest (the json line's last field, see lokiwire._django)."""
    key = b'"request_id":"'
    i = payload.find(key)
    if i < 0:
        return None
    return payload[i + len(key):i + len(key) + 16].decode()


def pick_needles(folder):
    files = batches(folder)
    picks = []
    for name, index in (("mid", len(files) // 2), ("last", len(files) - 1)):
        for j in range(index, -1, -1):  # walk back to a batch holding django lines
            rid = request_id_in(unsnappy_literal(open(files[j], "rb").read()))
            if rid:
                picks.append((name, rid, j))
                break
    counts = {rid: 0 for _, rid, _ in picks}
    for path in files:
        payload = unsnappy_literal(open(path, "rb").read())
        for rid in counts:
            counts[rid] += payload.count(rid.encode())
    needles = []
    for name, rid, j in picks:
        if counts[rid] != 1:
            print(f"needle {rid} from batch {j} occurs {counts[rid]} times; skipped", file=sys.stderr)
            continue
        needles.append((name, rid, j))
    return needles


def metrics(w, url):
    """The block-reader counters from /metrics, {name{labels}: value}."""
    code, body = w.get(url, "/metrics", timeout=60)
    out = {}
    if code != 200:
        return out
    for line in body.decode().splitlines():
        if line.startswith("loki_lokisharp_query_block"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def clear_peak(pid):
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def stats_of(body):
    try:
        doc = json.loads(body)
    except ValueError:
        return {}
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, dict):
        return {"result_entries": len(data) if isinstance(data, list) else None}
    s = data.get("stats") or {}
    summary = s.get("summary", {})
    store = s.get("querier", {}).get("store", {})
    head = s.get("ingester", {}).get("store", {})
    result = data.get("result", [])
    return {
        "exec_time_s": summary.get("execTime"),
        "bytes_processed": summary.get("totalBytesProcessed"),
        "lines_processed": summary.get("totalLinesProcessed"),
        "chunks_ref": store.get("totalChunksRef"),
        "decompressed_bytes": store.get("chunk", {}).get("decompressedBytes"),
        "head_chunk_bytes": head.get("chunk", {}).get("headChunkBytes"),
        "result_series": len(result),
        "result_entries": sum(len(r.get("values", [])) for r in result),
        "result_value": result[0]["value"][1] if result and "value" in result[0] else None,
    }


def needle_queries(needles):
    """The two searches per needle, as (name, kind, query): a limit=100 log query and an instant count over the range."""
    todo = []
    for name, value, _ in needles:
        sel = '{namespace="jewelry-shop"} |= "' + value + '"'
        todo.append((f"needle_{name}_logs", "needle_logs", sel))
        todo.append((f"needle_{name}_count", "instant", f"sum(count_over_time({sel} [3h]))"))
    return todo


def query_range(meta):
    """The queries' time range: the dataset's, with a minute's margin at the end."""
    return meta["t0"], meta["t1"] + 60 * 10**9


def block_delta(before, after):
    d = {}
    for key, value in after.items():
        delta = value - before.get(key, 0.0)
        # lokisharp_query_blocks_total{outcome="decoded"} -> blocks_decoded
        name = key.split("{")[0].replace("loki_lokisharp_query_", "").replace("_total", "")
        outcome = key.split('outcome="')[1].split('"')[0] if 'outcome="' in key else ""
        d[f"{name}_{outcome}" if outcome else name] = int(delta)
    if d:
        d["blocks_considered"] = sum(v for k, v in d.items() if k.startswith("blocks_") and k != "blocks_skipped_time")
    return d


def run_one(perf, w, args, name, kind, q, t0, t1):
    times, cpus, peaks, starts, execs, code, body, blocks = [], [], [], [], [], None, b"", {}
    for _ in range(args.needle_repeat if name.startswith("needle_") else args.repeat):
        before = metrics(w, args.url)
        clear_peak(args.pid)
        starts.append(perf.rss_now_mb(args.pid))
        c0 = perf.cpu_seconds(args.pid)
        t = time.time()
        if kind == "needle_logs":
            code, body = w.get(args.url, "/loki/api/v1/query_range",
                               {"query": q, "start": str(t0), "end": str(t1), "limit": "100"}, timeout=600)
        else:
            code, body = perf.run_query(args.url, kind, q, t0, t1)
        times.append(time.time() - t)
        if code == 200:
            # A failed query has no execTime: a 0 would pull the median down.
            execs.append(stats_of(body).get("exec_time_s") or 0.0)
        cpus.append(perf.cpu_seconds(args.pid) - c0)
        peaks.append(perf.rss_peak_mb(args.pid))
        blocks = block_delta(before, metrics(w, args.url))
    warm = cpus[1:] or cpus
    res = {"query": q, "kind": kind, "status": code, "wall_s": sorted(times)[len(times) // 2], "wall_first_s": times[0], "wall_min_s": min(times),
           "cpu_s": sorted(cpus)[len(cpus) // 2], "cpu_ms_warm": sum(warm) * 1000 / len(warm), "peak_rss_mb": max(peaks), "rss_start_mb": starts[0],
           "response_bytes": len(body), "exec_ms": sorted(execs)[len(execs) // 2] * 1000 if execs else float("nan")}
    if code != 200:
        res["error"] = body[:300].decode(errors="replace")
    res.update(stats_of(body))
    res.update(blocks)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--mb", type=int, default=512)
    ap.add_argument("--shared", default=os.environ.get("SHARED", os.path.normpath(os.path.join(here, "../../../shared"))))
    ap.add_argument("--ingest", action="store_true", help="push the dataset first (queries then read the head)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each of perf.py's queries (median reported)")
    ap.add_argument("--needle-repeat", type=int, default=5, help="runs of each needle query (median reported; the first run's wall too)")
    ap.add_argument("--skip-perf-queries", action="store_true", help="run the needle queries only")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    perf, w = load_shared(args.shared)
    folder = f"/tmp/perfdata-{args.mb}"
    meta = json.load(open(os.path.join(folder, "meta.json")))
    needles = pick_needles(folder)
    res = {"mb": args.mb, "needles": {n: {"value": v, "batch": j} for n, v, j in needles}, "queries": {}}
    if args.ingest:
        wall, errors = perf.ingest(args.url, folder, 4)
        res["ingest_wall_s"], res["push_errors"] = wall, len(errors)
        time.sleep(2)
    res["rss_before_queries_mb"] = perf.rss_now_mb(args.pid)
    t0, t1 = query_range(meta)
    todo = ([] if args.skip_perf_queries else list(perf.QUERIES)) + needle_queries(needles)
    for name, kind, q in todo:
        res["queries"][name] = run_one(perf, w, args, name, kind, q, t0, t1)
    # Needles take milliseconds: their median and fastest run are also printed in ms (a loaded machine moves the median),
    # and the server's CPU per run in ms averaged over the runs after the first (which fills the tail caches; /proc counts
    # in 10 ms ticks, so one run alone rounds to 0 or 10). "exec ms" is the median of the engine's own execTime (the answer's
    # stats), without HTTP and JSON: the part of a needle's time that can grow with the data.
    print(f"{'query':22} {'status':>6} {'wall s':>8} {'med ms':>7} {'min ms':>7} {'exec ms':>7} {'cpu ms':>7} {'cpu s':>7} {'start MB':>8} {'peak MB':>8} {'blocks':>7} "
          f"{'decoded':>7} {'by filt':>7} {'read MB':>8} {'result':>8}")
    for name, r in res["queries"].items():
        result = r.get("result_value") if r.get("result_value") is not None else r.get("result_entries")
        print(f"{name:22} {r['status']:>6} {r['wall_s']:8.3f} {r['wall_s'] * 1000:7.2f} {r['wall_min_s'] * 1000:7.2f} {r['exec_ms']:7.2f} {r['cpu_ms_warm']:7.2f} {r['cpu_s']:7.2f} "
              f"{r['rss_start_mb']:8.0f} {r['peak_rss_mb']:8.0f} "
              f"{r.get('blocks_considered', '-'):>7} {r.get('blocks_decoded', '-'):>7} {r.get('blocks_skipped_content', '-'):>7} "
              f"{r.get('block_bytes_decoded', 0) / 2**20:8.1f} {str(result):>8}")
    if args.out:
        json.dump(res, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
