-- fetcherd schema, version 3: what fetcher-api needs to control the daemon
-- and to answer fast on big tables.
--
-- 1. fetcher_settings: one row, the truth about "paused". fetcher-api's
--    POST /pause and /resume write it; fetcherd reads it at start and on
--    NOTIFY fetcher_control. A table, not a heartbeat field, so a pause
--    survives restarts of either program.
-- 2. Exact counters kept by statement-level triggers with transition tables,
--    so GET /logs can give an exact `total` and /statistics its totals
--    without a count(*) over millions of rows per request. Statement-level:
--    a multi-row INSERT or a retention DELETE of 5,000 rows costs one
--    UPDATE per level touched, not one per row. Rows are updated in a fixed
--    order (ORDER BY the key) so two writers cannot deadlock on them.
--    TRUNCATE resets them. They are exact because they change in the same
--    transaction as the rows they count, and a reader's snapshot sees both
--    or neither.

CREATE TABLE fetcher_settings (
    id        int PRIMARY KEY CHECK (id = 1),
    paused    boolean NOT NULL DEFAULT false,
    paused_at timestamptz,
    paused_by text
);
INSERT INTO fetcher_settings (id) VALUES (1);

-- No writer may add or remove rows between the initial count and the
-- triggers taking over.
LOCK TABLE fetcher_logs, fetcher_cycles IN SHARE ROW EXCLUSIVE MODE;

-- fetcher_logs: rows per level.
CREATE TABLE fetcher_log_counts (
    level text PRIMARY KEY,
    n     bigint NOT NULL CHECK (n >= 0)
);
INSERT INTO fetcher_log_counts (level, n)
SELECT l, (SELECT count(*) FROM fetcher_logs WHERE level = l)
FROM unnest(ARRAY['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']) AS l;

-- One function per event: a transition table can only be named by a
-- trigger that declares it.
CREATE FUNCTION fetcher_log_counts_ins() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d record;
BEGIN
    FOR d IN SELECT level, count(*) AS k FROM new_rows GROUP BY level ORDER BY level LOOP
        UPDATE fetcher_log_counts SET n = n + d.k WHERE level = d.level;
    END LOOP;
    RETURN NULL;
END $$;
CREATE FUNCTION fetcher_log_counts_del() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d record;
BEGIN
    FOR d IN SELECT level, count(*) AS k FROM old_rows GROUP BY level ORDER BY level LOOP
        UPDATE fetcher_log_counts SET n = n - d.k WHERE level = d.level;
    END LOOP;
    RETURN NULL;
END $$;
CREATE FUNCTION fetcher_log_counts_upd() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d record;
BEGIN
    FOR d IN
        SELECT level, sum(k)::bigint AS k FROM (
            SELECT level, 1 AS k FROM new_rows UNION ALL SELECT level, -1 FROM old_rows) x
        GROUP BY level HAVING sum(k) <> 0 ORDER BY level
    LOOP
        UPDATE fetcher_log_counts SET n = n + d.k WHERE level = d.level;
    END LOOP;
    RETURN NULL;
END $$;
CREATE FUNCTION fetcher_log_counts_trunc() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE fetcher_log_counts SET n = 0;
    RETURN NULL;
END $$;

CREATE TRIGGER fetcher_logs_count_ins AFTER INSERT ON fetcher_logs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fetcher_log_counts_ins();
CREATE TRIGGER fetcher_logs_count_del AFTER DELETE ON fetcher_logs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fetcher_log_counts_del();
CREATE TRIGGER fetcher_logs_count_upd AFTER UPDATE ON fetcher_logs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fetcher_log_counts_upd();
CREATE TRIGGER fetcher_logs_count_trunc AFTER TRUNCATE ON fetcher_logs
    FOR EACH STATEMENT EXECUTE FUNCTION fetcher_log_counts_trunc();

-- fetcher_cycles: per status, the number of cycles and the sums
-- /statistics reports (a cycle is inserted 'running' and updated when it
-- ends, so UPDATE moves it between statuses).
CREATE TABLE fetcher_cycle_counts (
    status            text PRIMARY KEY,
    n                 bigint NOT NULL,
    assets_succeeded  bigint NOT NULL,
    assets_failed     bigint NOT NULL,
    upstream_requests bigint NOT NULL,
    duration_ms       bigint NOT NULL
);
INSERT INTO fetcher_cycle_counts
SELECT s, count(c.id), coalesce(sum(c.assets_succeeded), 0), coalesce(sum(c.assets_failed), 0),
       coalesce(sum(c.upstream_requests), 0), coalesce(sum(c.duration_ms), 0)
FROM unnest(ARRAY['running', 'succeeded', 'partial', 'failed', 'aborted']) AS s
LEFT JOIN fetcher_cycles c ON c.status = s
GROUP BY s;

CREATE FUNCTION fetcher_cycle_counts_ins() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d record;
BEGIN
    FOR d IN SELECT status, count(*) AS n, coalesce(sum(assets_succeeded), 0) AS s,
                    coalesce(sum(assets_failed), 0) AS f, coalesce(sum(upstream_requests), 0) AS u,
                    coalesce(sum(duration_ms), 0) AS ms
             FROM new_rows GROUP BY status ORDER BY status LOOP
        UPDATE fetcher_cycle_counts SET n = n + d.n, assets_succeeded = assets_succeeded + d.s,
            assets_failed = assets_failed + d.f, upstream_requests = upstream_requests + d.u,
            duration_ms = duration_ms + d.ms
        WHERE status = d.status;
    END LOOP;
    RETURN NULL;
END $$;
CREATE FUNCTION fetcher_cycle_counts_del() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d record;
BEGIN
    FOR d IN SELECT status, count(*) AS n, coalesce(sum(assets_succeeded), 0) AS s,
                    coalesce(sum(assets_failed), 0) AS f, coalesce(sum(upstream_requests), 0) AS u,
                    coalesce(sum(duration_ms), 0) AS ms
             FROM old_rows GROUP BY status ORDER BY status LOOP
        UPDATE fetcher_cycle_counts SET n = n - d.n, assets_succeeded = assets_succeeded - d.s,
            assets_failed = assets_failed - d.f, upstream_requests = upstream_requests - d.u,
            duration_ms = duration_ms - d.ms
        WHERE status = d.status;
    END LOOP;
    RETURN NULL;
END $$;
CREATE FUNCTION fetcher_cycle_counts_upd() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d record;
BEGIN
    FOR d IN SELECT status, sum(n)::bigint AS n, sum(s)::bigint AS s, sum(f)::bigint AS f,
                    sum(u)::bigint AS u, sum(ms)::bigint AS ms FROM (
                 SELECT status, 1 AS n, assets_succeeded AS s, assets_failed AS f,
                        upstream_requests AS u, coalesce(duration_ms, 0) AS ms FROM new_rows
                 UNION ALL
                 SELECT status, -1, -assets_succeeded, -assets_failed, -upstream_requests,
                        -coalesce(duration_ms, 0) FROM old_rows) x
             GROUP BY status ORDER BY status LOOP
        UPDATE fetcher_cycle_counts SET n = n + d.n, assets_succeeded = assets_succeeded + d.s,
            assets_failed = assets_failed + d.f, upstream_requests = upstream_requests + d.u,
            duration_ms = duration_ms + d.ms
        WHERE status = d.status;
    END LOOP;
    RETURN NULL;
END $$;
CREATE FUNCTION fetcher_cycle_counts_trunc() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE fetcher_cycle_counts SET n = 0, assets_succeeded = 0, assets_failed = 0,
        upstream_requests = 0, duration_ms = 0;
    RETURN NULL;
END $$;

CREATE TRIGGER fetcher_cycles_count_ins AFTER INSERT ON fetcher_cycles
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fetcher_cycle_counts_ins();
CREATE TRIGGER fetcher_cycles_count_del AFTER DELETE ON fetcher_cycles
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fetcher_cycle_counts_del();
CREATE TRIGGER fetcher_cycles_count_upd AFTER UPDATE ON fetcher_cycles
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fetcher_cycle_counts_upd();
CREATE TRIGGER fetcher_cycles_count_trunc AFTER TRUNCATE ON fetcher_cycles
    FOR EACH STATEMENT EXECUTE FUNCTION fetcher_cycle_counts_trunc();

-- Indexes for the API's new queries.
-- /statistics "since start": the live instance's cycles since its start.
CREATE INDEX fetcher_cycles_instance_started ON fetcher_cycles (instance_id, started_at);
-- /metrics fetcherd_errors_total{provider}: failures only, a small index.
CREATE INDEX price_update_log_failed ON price_update_log (asset_id) WHERE NOT success;
