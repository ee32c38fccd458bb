#!/usr/bin/python3
"""healthz_poller — asks GET /healthz every INTERVAL seconds (a new
connection each time, as a load balancer would) and appends one line per
probe to OUT: "<unix time> <status|conn_error|timeout> <latency ms>".
Runs until the stop file exists.

  healthz_poller.py --url http://127.0.0.1:PORT --out FILE --stop-file F [--interval 0.1]
"""
import argparse, http.client, os, time, urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("--url", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--stop-file", required=True)
ap.add_argument("--interval", type=float, default=0.1)
ap.add_argument("--path", default="/healthz")
a = ap.parse_args()
u = urllib.parse.urlparse(a.url)
with open(a.out, "a", buffering=1) as out:
    while not os.path.exists(a.stop_file):
        t = time.time()
        t0 = time.monotonic()
        try:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
            c.request("GET", a.path)
            r = c.getresponse(); r.read(); c.close()
            status = str(r.status)
        except TimeoutError:
            status = "timeout"
        except Exception:
            status = "conn_error"
        ms = (time.monotonic() - t0) * 1000
        out.write("%.3f %s %.2f\n" % (t, status, ms))
        time.sleep(max(0.0, a.interval - ms / 1000))
