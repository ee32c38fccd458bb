#!/usr/bin/env python3
"""A webhook receiver of ours for the alert tests, on loopback only.

Every POST to any path other than /_* is recorded, one JSON line per
request in --log (time, path, status answered, the body parsed as JSON, or
its text when it is not JSON), and answered with the status set by
`POST /_mode?status=N` (200 at start; `retry_after=S` adds a Retry-After).
`GET /_received` answers the recorded requests as a JSON array.

Prints "webhook receiver listening on 127.0.0.1:PORT" once bound (--port 0
takes a free port, so two test runs cannot race for one).
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

lock = threading.Lock()
state = {"status": 200, "retry_after": None, "received": []}


class Handler(BaseHTTPRequestHandler):
    server_version = "webhook-receiver/1"

    def log_message(self, fmt, *args):  # quiet: the JSON log says it all
        pass

    def _answer(self, status, body=b"", ctype="text/plain", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if urlsplit(self.path).path == "/_received":
            with lock:
                body = json.dumps(state["received"]).encode()
            self._answer(200, body, "application/json")
        else:
            self._answer(404, b"not found")

    def do_POST(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        if url.path == "/_mode":
            q = parse_qs(url.query)
            with lock:
                state["status"] = int(q.get("status", ["200"])[0])
                state["retry_after"] = q.get("retry_after", [None])[0]
            self._answer(200, b"ok")
            return
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = raw.decode("utf-8", "replace")
        with lock:
            status, ra = state["status"], state["retry_after"]
            rec = {
                "t": time.time(),
                "path": url.path,
                "query": url.query,
                "content_type": self.headers.get("Content-Type"),
                "user_agent": self.headers.get("User-Agent"),
                "authorization": self.headers.get("Authorization"),
                "status": status,
                "body": body,
            }
            state["received"].append(rec)
            with open(self.server.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(rec) + "\n")
        extra = {"Retry-After": ra} if ra else None
        self._answer(status, b"ok" if status < 300 else b"failing on purpose", extra=extra)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.log_path = args.log
    open(args.log, "w").close()
    print(f"webhook receiver listening on 127.0.0.1:{srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
