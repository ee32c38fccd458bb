#!/usr/bin/python3
"""loadgen — steady API load for the fault suites (stdlib only).

  loadgen.py --url http://127.0.0.1:PORT --out STATS.json [--threads 4]
             [--path /api/fetcher/status ...] [--stop-file F] [--duration S]

Each thread keeps one HTTP/1.1 keep-alive connection (reconnecting after
any error) and walks the paths round-robin until the stop file exists or
the duration is over. Every second, and at the end, STATS.json is
rewritten atomically:
  {"requests": N, "by_status": {"200": N, "503": N, "conn_error": N, ...},
   "by_path": {"/readyz": {"200": N, ...}}, "max_ms": X, "t": unix_time,
   "errors5xx": [[t, path, status], ...]   (first 200 non-503 5xx answers)}
A connection error (the API is being restarted) counts as "conn_error",
never as a 5xx.
"""
import argparse, http.client, json, os, threading, time, urllib.parse

DEFAULT_PATHS = ["/healthz", "/readyz", "/api/fetcher/status", "/api/fetcher/statistics",
                 "/api/fetcher/logs?limit=20", "/api/fetcher/recent-updates?limit=20",
                 "/api/fetcher/queue", "/api/fetcher/cycles?limit=10", "/api/fetcher/assets",
                 "/api/fetcher/portfolios", "/metrics"]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--path", action="append")
    ap.add_argument("--stop-file")
    ap.add_argument("--duration", type=float, default=0)
    ap.add_argument("--pause-ms", type=float, default=0, help="sleep between requests per thread")
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.url)
    paths = a.path or DEFAULT_PATHS
    lock = threading.Lock()
    st = {"requests": 0, "by_status": {}, "by_path": {}, "max_ms": 0.0, "errors5xx": []}
    end = time.time() + a.duration if a.duration > 0 else None
    stop = threading.Event()

    def record(path, status, ms):
        with lock:
            st["requests"] += 1
            st["by_status"][status] = st["by_status"].get(status, 0) + 1
            bp = st["by_path"].setdefault(path, {})
            bp[status] = bp.get(status, 0) + 1
            if ms > st["max_ms"] and status != "conn_error":
                st["max_ms"] = ms
            if status.startswith("5") and status != "503" and len(st["errors5xx"]) < 200:
                st["errors5xx"].append([time.time(), path, status])

    def worker(k):
        conn = None
        i = k
        while not stop.is_set():
            path = paths[i % len(paths)]
            i += 1
            t0 = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                conn.request("GET", path)
                r = conn.getresponse()
                r.read()
                status = str(r.status)
                if r.getheader("Connection", "").lower() == "close":
                    conn.close(); conn = None
            except Exception:
                status = "conn_error"
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.05)
            record(path, status, (time.monotonic() - t0) * 1000)
            if a.pause_ms:
                time.sleep(a.pause_ms / 1000)

    def dump():
        with lock:
            st["t"] = time.time()
            s = json.dumps(st)
        tmp = a.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(s)
        os.replace(tmp, a.out)

    ts = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(a.threads)]
    for t in ts:
        t.start()
    try:
        while True:
            time.sleep(0.5)
            dump()
            if (a.stop_file and os.path.exists(a.stop_file)) or (end and time.time() > end):
                break
    except KeyboardInterrupt:
        pass
    stop.set()
    for t in ts:
        t.join(timeout=12)
    dump()

if __name__ == "__main__":
    main()
