#!/usr/bin/python3
"""malformed — N malformed HTTP requests over raw sockets (stdlib only).

  malformed.py HOST PORT [N=10000] [--out RESULTS.json]

Each request goes on a new TCP connection: bad methods, bad percent
encodings, huge headers and URLs, bodies on GET, path traversal, SQL and
script payloads in parameters and path segments, invalid UTF-8, protocol
garbage. The answer's status line is read (5 s timeout). Prints one JSON
line: {"sent": N, "by_class": {"4xx": N, "5xx": N, "2xx": N, "3xx": N,
"closed": N, "timeout": N}, "bad": [first 20 answers that were not 4xx]}.
"closed" = the server closed the connection without an answer (allowed
only for cases marked may_close: bytes that are not HTTP at all).
A 2xx is a failure except for the LENIENT cases below, a random mutation
that happens to be valid, and a path traversal that fell back to the
dashboard's index (never a file outside it: the body is checked).
"""
import json, random, socket, sys, threading

host, port = sys.argv[1], int(sys.argv[2])
n_total = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3].isdigit() else 10000
out_path = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else None

A = "/api/fetcher"
SQL = ["' OR 1=1--", "1;DROP TABLE assets", "1 UNION SELECT * FROM pg_user", "');DELETE FROM fetcher_logs;--",
       "1' AND pg_sleep(5)--", "%27%20OR%20%271%27=%271", "1%3BDROP%20TABLE%20assets"]
XSS = ["<script>alert(1)</script>", "%3Cscript%3Ealert(1)%3C/script%3E", "\"><img src=x onerror=alert(1)>",
       "javascript:alert(1)", "%22%3E%3Csvg/onload=alert(1)%3E"]
BADUTF = ["%ff", "%c0%af", "%ed%a0%80", "%f8%88%80%80%80", "\xff\xfe", "\xc3\x28", "%e2%82"]
TRAV = ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd", "/....//....//etc/passwd",
        "/%252e%252e/etc/passwd", "/..\\..\\etc\\passwd", "/%c0%ae%c0%ae/etc/passwd", "/app.js/../../../Makefile",
        "/api/fetcher/../../etc/passwd", "/api/fetcher/cycles/..%2f..%2fetc%2fpasswd", "/.%00./etc/passwd",
        "//etc/passwd", "/%2fetc%2fpasswd"]

# Accepted with a 2xx by design (counted apart as "lenient_2xx"): OPTIONS is
# the CORS preflight (204); unknown query parameters are ignored; a body on
# GET has no meaning and is ignored; an HTTP/1.1 request without Host is
# served (libmicrohttpd is not in pedantic mode).
LENIENT = {"method OPTIONS", "payload unknown param", "body on GET /api/fetcher/status",
           "body on GET /api/fetcher/logs", "no host 1.1"}

def req(line, headers=None, body=b"", host_hdr=True):
    h = [] if not host_hdr else ["Host: x"]
    h += headers or []
    raw = (line + "\r\n" + "".join(x + "\r\n" for x in h) + "\r\n").encode("latin-1", "replace") if isinstance(line, str) else line
    return raw + body

def cases(rnd):
    """(name, raw bytes, may_close)"""
    c = []
    for m in ["FOO", "GETT", "get", "G\x01T", "PUT", "PATCH", "TRACE", "OPTIONS", "CONNECT", "PROPFIND", "M" * 300]:
        for p in ["/api/fetcher/status", "/healthz", "/api/fetcher/trigger-update"]:
            c.append(("method " + m[:10], req(f"{m} {p} HTTP/1.1"), m in ("G\x01T",) or len(m) > 100))
    for p in ["/api/fetcher/status", "/healthz", "/api/fetcher/logs", "/api/fetcher/cycles"]:
        c.append(("DELETE on GET route", req(f"DELETE {p} HTTP/1.1"), False))
        c.append(("POST on GET route", req(f"POST {p} HTTP/1.1", ["Content-Length: 0"]), False))
    for e in ["%zz", "%", "%4", "%00", "%0a", "%0d%0a", "%%%", "%u0041"]:
        c.append(("bad encoding query " + e, req(f"GET {A}/logs?level={e} HTTP/1.1"), False))
        c.append(("bad encoding limit " + e, req(f"GET {A}/logs?limit=1{e} HTTP/1.1"), False))
        c.append(("bad encoding path " + e, req(f"GET {A}/cycles/{e} HTTP/1.1"), False))
    for t in TRAV:
        c.append(("traversal " + t, req(f"GET {t} HTTP/1.1"), False))
    for s in SQL + XSS:
        q = s.replace(" ", "%20")
        c.append(("payload level", req(f"GET {A}/logs?level={q} HTTP/1.1"), False))
        c.append(("payload limit", req(f"GET {A}/recent-updates?limit={q} HTTP/1.1"), False))
        c.append(("payload offset", req(f"GET {A}/logs?offset={q} HTTP/1.1"), False))
        c.append(("payload cycle id", req(f"GET {A}/cycles/{q} HTTP/1.1"), False))
        c.append(("payload unknown param", req(f"GET {A}/status?{q}=1 HTTP/1.1"), False))
        c.append(("payload refresh symbol", req(f"POST {A}/assets/{q}/refresh HTTP/1.1", ["Content-Length: 0"]), False))
        c.append(("payload untrack symbol", req(f"DELETE {A}/assets/{q} HTTP/1.1"), False))
        body = json.dumps({"symbol": s, "type": "stock"}).encode()
        c.append(("payload track body", req(f"POST {A}/assets HTTP/1.1", ["Content-Type: application/json", f"Content-Length: {len(body)}"], body), False))
    for u in BADUTF:
        c.append(("bad utf8 level", req(f"GET {A}/logs?level={u} HTTP/1.1"), False))
        c.append(("bad utf8 path", req(f"GET {A}/cycles/{u} HTTP/1.1"), False))
        c.append(("bad utf8 refresh", req(f"POST {A}/assets/{u}/refresh HTTP/1.1", ["Content-Length: 0"]), False))
        c.append(("bad utf8 static", req(f"GET /{u} HTTP/1.1"), False))
        body = b'{"symbol":"' + u.encode("latin-1") + b'","type":"stock"}'
        c.append(("bad utf8 body", req(f"POST {A}/assets HTTP/1.1", [f"Content-Length: {len(body)}"], body), False))
    c.append(("huge header", req(f"GET {A}/status HTTP/1.1", ["X-Big: " + "a" * 40000]), True))
    c.append(("many headers", req(f"GET {A}/status HTTP/1.1", [f"X-H{i}: {i}" for i in range(3000)]), True))
    c.append(("huge url", req(f"GET {A}/logs?level=" + "A" * 100000 + " HTTP/1.1"), True))
    c.append(("huge path", req("GET /" + "a/" * 30000 + " HTTP/1.1"), True))
    c.append(("long param", req(f"GET {A}/logs?limit=" + "9" * 5000 + " HTTP/1.1"), False))
    c.append(("huge body", req(f"POST {A}/assets HTTP/1.1", ["Content-Length: 200000"], b"{" * 200000), True))
    for p in ["/api/fetcher/status", "/api/fetcher/logs", "/healthz_x"]:
        b = b'{"x":1}'
        c.append(("body on GET " + p, req(f"GET {p} HTTP/1.1", [f"Content-Length: {len(b)}"], b), False))
    c.append(("no host 1.1", req(f"GET {A}/status HTTP/1.1", host_hdr=False), False))
    c.append(("bad version", req(f"GET {A}/status HTTP/9.9"), True))
    c.append(("no version", req(f"GET {A}/status"), True))
    c.append(("neg content-length", req(f"POST {A}/assets HTTP/1.1", ["Content-Length: -5"]), True))
    c.append(("two content-lengths", req(f"POST {A}/assets HTTP/1.1", ["Content-Length: 5", "Content-Length: 7"], b"{}{}{}{"), True))
    c.append(("bad chunked", req(f"POST {A}/assets HTTP/1.1", ["Transfer-Encoding: chunked"], b"zz\r\nabc\r\n0\r\n\r\n"), True))
    c.append(("cl and te", req(f"POST {A}/assets HTTP/1.1", ["Content-Length: 4", "Transfer-Encoding: chunked"], b"0\r\n\r\n"), True))
    c.append(("header no colon", req(f"GET {A}/status HTTP/1.1", ["NoColonHere"]), True))
    c.append(("header bad utf8", req(f"GET {A}/logs?level=LOUD HTTP/1.1", ["X-U: \xff\xfe\xc3\x28"]), False))
    c.append(("bad bearer", req(f"GET {A}/logs?level=x HTTP/1.1", ["Authorization: Bearer \xff\x00"]), True))
    c.append(("garbage", bytes(rnd.getrandbits(8) for _ in range(200)) + b"\r\n\r\n", True))
    c.append(("nul in line", req(f"GET {A}/st\x00atus HTTP/1.1"), True))
    c.append(("only crlf", b"\r\n\r\n\r\n", True))
    c.append(("space url", req(f"GET {A}/logs?level=a b HTTP/1.1"), True))
    c.append(("absolute uri", req(f"GET http://evil.example{A}/logs?limit=0 HTTP/1.1"), False))
    return c

def fuzz_case(rnd, base):
    """A random mutation of a random case (keeps 10,000 requests varied)."""
    name, raw, may_close = base
    raw = bytearray(raw)
    line_end = raw.find(b"\r\n")
    if line_end > 5 and rnd.random() < 0.5:
        # mutate a byte of the request target (keep it a request line)
        sp = raw.find(b" ") + 1
        i = rnd.randrange(sp, max(sp + 1, line_end - 9))
        raw[i] = rnd.choice(b"%'\"<>;\\\xff\xc0\x80/.?&=")
        return (name + " (mutated)", bytes(raw), True)
    return (name, bytes(raw), may_close)

def send(raw):
    """Sends raw on a new connection; returns the answer's head and body (up
    to its Content-Length), b"" if closed without one, None on a timeout.
    The connection is not half-closed: a keep-alive server would wait."""
    s = socket.create_connection((host, port), timeout=5)
    try:
        try:
            s.sendall(raw)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass   # the server answered early (413, 431) and stopped reading
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        cl = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length" and v.strip().isdigit():
                cl = min(int(v.strip()), 1 << 20)
        while len(body) < cl:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body if head else b""
    except socket.timeout:
        return None
    finally:
        s.close()

def main():
    rnd = random.Random(20261121)
    base = cases(rnd)
    work = list(base)
    while len(work) < n_total:
        work.append(fuzz_case(rnd, rnd.choice(base)))
    work = work[:n_total]
    res = {"sent": 0, "by_class": {}, "bad": [], "by_status": {}}
    lock = threading.Lock()
    it = iter(work)

    def worker():
        while True:
            with lock:
                try:
                    name, raw, may_close = next(it)
                except StopIteration:
                    return
            try:
                ans = send(raw)
            except OSError as e:
                ans = b""
            if ans is None:
                cls, st = "timeout", "timeout"
            elif not ans.startswith(b"HTTP/"):
                cls, st = "closed", "closed"
            else:
                st = ans.split(b" ", 2)[1].decode("latin-1", "replace")
                cls = st[:1] + "xx"
            bad = False
            base_name = name.replace(" (mutated)", "")
            body = ans.split(b"\r\n\r\n", 1)[-1] if ans else b""
            head = ans.split(b"\r\n\r\n", 1)[0].lower() if ans else b""
            if cls == "timeout" and base_name == "only crlf":
                bad = False   # blank lines before a request line are skipped (RFC 9112 2.2); the server waits
            elif cls == "5xx" or cls == "timeout":
                # 505 is the RFC answer to an unknown HTTP version (libmicrohttpd's own)
                bad = not (st == "505" and base_name in ("bad version",))
            elif (base_name in LENIENT or name.endswith("(mutated)")) and cls == "2xx":
                # accepted by design, or a random mutation made a valid request;
                # a JSON answer must never carry a payload back unescaped
                bad = b"application/json" in head and (b"<script>" in body or b"<img" in body or b"<svg" in body)
            elif cls in ("2xx", "3xx"):
                body = ans.split(b"\r\n\r\n", 1)[-1]
                # a traversal or odd path may land on the dashboard, never on a file outside it
                if b"root:" in body or b"PGLOCAL" in body or b"CFLAGS" in body or not name.startswith(("traversal", "bad utf8 static", "absolute")):
                    bad = True
            elif cls == "closed" and not may_close:
                bad = True
            with lock:
                res["sent"] += 1
                res["by_class"][cls] = res["by_class"].get(cls, 0) + 1
                res["by_status"][st] = res["by_status"].get(st, 0) + 1
                if bad:
                    res.setdefault("failed", 0)
                    res["failed"] += 1
                    k = base_name + " -> " + st
                    res.setdefault("failed_by_case", {})
                    res["failed_by_case"][k] = res["failed_by_case"].get(k, 0) + 1
                    if len(res["bad"]) < 20:
                        res["bad"].append([name, st, raw[:120].decode("latin-1")])
                if base_name in LENIENT and cls == "2xx":
                    res["lenient_2xx"] = res.get("lenient_2xx", 0) + 1
    ts = [threading.Thread(target=worker) for _ in range(8)]
    for t in ts: t.start()
    for t in ts: t.join()
    res.setdefault("failed", 0)
    print(json.dumps(res))
    if out_path:
        with open(out_path, "w") as f:
            json.dump(res, f)

main()
