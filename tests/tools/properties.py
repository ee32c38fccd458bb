#!/usr/bin/env python3
"""Generated-case properties of fetcher-api over a real database (issue 21).

Each property runs CASES cases (default 100), case i drawing from
random.Random(seed * 1000003 + i); the seed is printed first and on every
failure, and PROPERTY_SEED replays a run. Rows go in with psql (the real
schema, its triggers included); answers come from a real fetcher-api over
HTTP. Prints one "PASS name (N cases)" or "FAIL name: …" line per property
for tests/integration/properties.sh.

  logs_pages      offset pages of any limit cover the filtered set exactly
                  once, newest (highest id) first, and total is its size
  logs_keyset     before_id pages do the same, ending where next_before_id
                  says
  recent_updates  limit and filters give exactly the newest matching rows
  statistics      /statistics equals the formulas over the cycles table:
                  counters, success rate, average of the last 100, last
  uptime          uptime_seconds is the age of the live instance with the
                  newest heartbeat, 0 with none live
"""
import json
from decimal import ROUND_HALF_UP, Decimal
import os
import random
import subprocess
import sys
import urllib.parse
import urllib.request

DB = os.environ["DATABASE_URL"]
API = os.environ["API_URL"]
CASES = int(os.environ.get("PROPERTY_CASES", "100"))
SEED = int(os.environ.get("PROPERTY_SEED") or random.SystemRandom().randrange(1, 2**31))
LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
WORDS = ["alpha", "beta", "gamma", "delta", "Omega"]
SYMBOLS = ["PA", "PB", "PC"]


def psql(sql, stdin=None):
    out = subprocess.run(["psql", DB, "-X", "-Atq", "-v", "ON_ERROR_STOP=1", "-F", "\t", "-c", sql],
                         input=stdin, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("psql: " + out.stderr.strip())
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def get(path, **params):
    q = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    with urllib.request.urlopen(API + path + ("?" + q if q else ""), timeout=10) as r:
        return json.load(r)


def copy(table, cols, rows):
    data = "".join("\t".join("\\N" if v is None else str(v) for v in r) + "\n" for r in rows)
    psql("COPY %s (%s) FROM STDIN" % (table, ", ".join(cols)), stdin=data)


class Failed(Exception):
    pass


def expect(what, want, got):
    if want != got:
        raise Failed("%s: expected %s, got %s" % (what, json.dumps(want)[:300], json.dumps(got)[:300]))


# --- logs ------------------------------------------------------------------
def gen_logs(rnd):
    psql("TRUNCATE fetcher_logs RESTART IDENTITY")
    n = rnd.choice([0, 1, 2, rnd.randrange(3, 40), rnd.randrange(40, 160)])
    rows = []
    for i in range(n):
        # timestamps independent of id order, with ties
        ts = "2026-11-%02d %02d:%02d:00+00" % (rnd.randrange(1, 29), rnd.randrange(24), rnd.choice([0, 30]))
        msg = "event %s %s %d" % (rnd.choice(WORDS), rnd.choice(WORDS), i)
        rows.append((ts, rnd.choice(LEVELS), msg, "prop", i + 1))
    if rows:
        copy("fetcher_logs", ["\"timestamp\"", "level", "message", "instance_id", "seq"], rows)
    return psql("SELECT id, to_char(\"timestamp\" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), level, message"
                " FROM fetcher_logs ORDER BY id")


def log_filter(rnd):
    kind = rnd.choice(["none", "level", "min_level", "q", "since", "level+q"])
    f = {}
    if kind in ("level", "level+q"):
        f["level"] = rnd.choice(LEVELS)
    if kind == "min_level":
        f["min_level"] = rnd.choice(LEVELS)
    if kind in ("q", "level+q"):
        f["q"] = rnd.choice(WORDS).lower()
    if kind == "since":
        f["since"] = "2026-11-%02dT%02d:00:00Z" % (rnd.randrange(1, 29), rnd.randrange(24))
    return f


def log_matches(row, f):
    _id, ts, level, msg = row
    if "level" in f and level != f["level"]:
        return False
    if "min_level" in f and LEVELS.index(level) < LEVELS.index(f["min_level"]):
        return False
    if "q" in f and f["q"].lower() not in msg.lower():
        return False
    if "since" in f and ts < f["since"].replace("T", " ").rstrip("Z"):
        return False
    return True


def prop_logs_pages(rnd):
    rows = gen_logs(rnd)
    f = log_filter(rnd)
    want = sorted((int(r[0]) for r in rows if log_matches(r, f)), reverse=True)
    limit = rnd.randrange(1, 60)
    seen, offset = [], 0
    while True:
        page = get("/api/fetcher/logs", limit=limit, offset=offset, **f)
        ids = [e["id"] for e in page["logs"]]
        expect("total with %s" % f, len(want), page["total"])
        if len(ids) > limit:
            raise Failed("a page of %d rows for limit %d" % (len(ids), limit))
        if not ids:
            break
        seen += ids
        offset += limit
        if offset > len(want) + limit:
            raise Failed("pages go on past the total")
    expect("offset pages (limit %d, filter %s)" % (limit, f), want, seen)


def prop_logs_keyset(rnd):
    rows = gen_logs(rnd)
    f = log_filter(rnd)
    want = sorted((int(r[0]) for r in rows if log_matches(r, f)), reverse=True)
    limit = rnd.randrange(1, 60)
    seen, before = [], None
    for _ in range(len(want) + 2):
        page = get("/api/fetcher/logs", limit=limit, before_id=before, **f)
        ids = [e["id"] for e in page["logs"]]
        seen += ids
        before = page.get("next_before_id")
        if len(ids) == limit:
            expect("next_before_id of a full page", min(ids), before)
        else:
            expect("next_before_id of a short page", None, before)
        if before is None:
            break
    expect("keyset pages (limit %d, filter %s)" % (limit, f), want, seen)


# --- recent updates ----------------------------------------------------------
def prop_recent_updates(rnd):
    psql("TRUNCATE price_update_log RESTART IDENTITY")
    ids = dict((r[1], int(r[0])) for r in psql("SELECT id, symbol FROM assets WHERE symbol IN ('PA', 'PB', 'PC')"))
    n = rnd.choice([0, 1, rnd.randrange(2, 50), rnd.randrange(50, 700)])
    rows = []
    for i in range(n):
        sym = rnd.choice(SYMBOLS)
        ok = rnd.random() < 0.8
        ts = "2026-11-%02d %02d:00:00+00" % (rnd.randrange(1, 29), rnd.randrange(24))
        rows.append((ts, ids[sym], sym, "1.5" if ok else None, "USD", "t" if ok else "f",
                     None if ok else "boom", rnd.randrange(1, 900), "prop", i + 1))
    if rows:
        copy("price_update_log", ["\"timestamp\"", "asset_id", "symbol", "price", "currency", "success",
                                  "error", "duration_ms", "instance_id", "seq"], rows)
    all_rows = psql("SELECT id, symbol, success FROM price_update_log ORDER BY id DESC")
    limit = rnd.choice([None, rnd.randrange(1, 501)])
    sym = rnd.choice([None, rnd.choice(SYMBOLS)])
    succ = rnd.choice([None, "true", "false"])
    want = [int(r[0]) for r in all_rows
            if (sym is None or r[1] == sym) and (succ is None or (r[2] == "t") == (succ == "true"))]
    want = want[:50 if limit is None else limit]
    got = [u["id"] for u in get("/api/fetcher/recent-updates", limit=limit, symbol=sym, success=succ)["updates"]]
    expect("recent updates (limit %s, symbol %s, success %s)" % (limit, sym, succ), want, got)


# --- statistics --------------------------------------------------------------
def prop_statistics(rnd):
    psql("TRUNCATE fetcher_cycles RESTART IDENTITY CASCADE")
    n = rnd.choice([0, 1, rnd.randrange(2, 100), rnd.randrange(100, 260)])
    rows = []
    for i in range(1, n + 1):
        s = rnd.choice(["succeeded", "succeeded", "succeeded", "partial", "failed", "aborted", "running"])
        d = rnd.randrange(0, 20000)
        ok, bad = rnd.randrange(0, 41), rnd.randrange(0, 6)
        start = "2026-11-01 00:00:00+00"
        rows.append(("prop", i, "schedule", s, start, None if s == "running" else start,
                     None if s == "running" else d, ok + bad, ok, bad))
    if rows:
        copy("fetcher_cycles", ["instance_id", "seq", "trigger", "status", "started_at", "finished_at",
                                "duration_ms", "assets_total", "assets_succeeded", "assets_failed"], rows)
    got = get("/api/fetcher/statistics")
    cyc = psql("SELECT id, status, COALESCE(duration_ms, -1), assets_succeeded, assets_failed FROM fetcher_cycles")
    fin = [r for r in cyc if r[1] != "running"]
    ok = [r for r in fin if r[1] in ("succeeded", "partial")]
    bad = [r for r in fin if r[1] in ("failed", "aborted")]
    total = len(fin)
    last100 = sorted(fin, key=lambda r: int(r[0]))[-100:]
    a_ok = sum(int(r[3]) for r in fin)
    a_bad = sum(int(r[4]) for r in fin)

    # PostgreSQL's round() is half away from zero on exact numerics: the
    # expectations are exact fractions rounded the same way, never floats.
    def hu(num, den, places):
        if den == 0:
            return None
        q = Decimal(10) ** -places
        return str((Decimal(num) / Decimal(den)).quantize(q, rounding=ROUND_HALF_UP))

    def as_dec(x, places):
        if x is None:
            return None
        return str(Decimal(repr(x)).quantize(Decimal(10) ** -places, rounding=ROUND_HALF_UP))

    want = {
        "total_cycles": total, "successful_cycles": len(ok), "failed_cycles": len(bad),
        "success_rate": hu(len(ok) * 100, total, 2) if total else "0.00",
        "average_cycle_duration_seconds": hu(sum(int(r[2]) for r in last100), len(last100) * 1000, 3),
        "last_cycle_duration_seconds": hu(int(last100[-1][2]), 1000, 3) if last100 else None,
        "asset_success_rate": hu(a_ok * 100, a_ok + a_bad, 2) if a_ok + a_bad else "0.00",
    }
    have = {k: got.get(k) for k in want}
    for k in ("success_rate", "asset_success_rate"):
        have[k] = as_dec(have[k], 2)
    for k in ("average_cycle_duration_seconds", "last_cycle_duration_seconds"):
        have[k] = as_dec(have[k], 3)
    expect("statistics over %d cycles" % n, want, have)


# --- uptime ------------------------------------------------------------------
def prop_uptime(rnd):
    """uptime_seconds is the age of the live instance (running, heartbeat
    within the live window) with the newest heartbeat; 0 when none is live.
    Heartbeat ages are far from the window's edge (15 s): 0-5 s or 60 s+."""
    psql("TRUNCATE fetcher_instances")
    insts = []
    for i in range(rnd.choice([0, 1, 1, 2, 3, 5])):
        live_hb = rnd.random() < 0.5
        hb = rnd.randrange(0, 6) if live_hb else rnd.randrange(60, 100000)
        state = "running" if rnd.random() < 0.8 else "stopped"
        age = hb + rnd.randrange(0, 30 * 86400)
        insts.append(("prop-%d" % i, "h", 1, "v", age, hb, state, 600))
    if insts:
        psql("INSERT INTO fetcher_instances (instance_id, host, pid, version, started_at,"
             " last_heartbeat, state, interval_s) VALUES " + ",".join(
                 "('%s', '%s', %d, '%s', now() - make_interval(secs => %d),"
                 " now() - make_interval(secs => %d), '%s', %d)" % r for r in insts))
    live = [r for r in insts if r[6] == "running" and r[5] <= 5]
    want = min(live, key=lambda r: r[5])[4] if live else 0
    ties = [r for r in live if r[5] == (min(r2[5] for r2 in live) if live else 0)]
    got = get("/api/fetcher/statistics")["uptime_seconds"]
    # the newest heartbeat may be a tie: any of the tied instances' ages; a
    # second or two pass between the insert and the answer
    if not any(r[4] <= got <= r[4] + 2 for r in ties) and not (not live and got == 0):
        raise Failed("uptime with instances %s: expected %s, got %s" % (insts, want, got))


PROPS = [("logs_pages", prop_logs_pages), ("logs_keyset", prop_logs_keyset),
         ("recent_updates", prop_recent_updates), ("statistics", prop_statistics),
         ("uptime", prop_uptime)]


def main():
    print("# properties: PROPERTY_SEED=%d, %d cases each" % (SEED, CASES))
    psql("INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)"
         " SELECT s, s, 'stock', 'USD', 'yahoo', s FROM unnest(ARRAY['PA', 'PB', 'PC']) s"
         " ON CONFLICT DO NOTHING")
    only = os.environ.get("PROPERTY_ONLY")
    failed = 0
    for name, fn in PROPS:
        if only and name != only:
            continue
        try:
            for i in range(CASES):
                try:
                    fn(random.Random(SEED * 1000003 + i))
                except Failed as e:
                    raise Failed("case %d: %s" % (i, e))
            print("PASS %s (%d cases)" % (name, CASES))
        except Exception as e:  # a crash is a failure with its seed too
            failed += 1
            print("FAIL %s: %s (replay: PROPERTY_SEED=%d PROPERTY_ONLY=%s)" % (name, e, SEED, name))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
