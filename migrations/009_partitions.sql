-- fetcherd schema, version 9: the monitoring tables partitioned by day.
--
-- At 10,000 tracked assets on the default ten-minute interval fetcherd
-- writes 1.44 million price_update_log rows a day: 43 million in the 30
-- days LOG_RETENTION_DAYS keeps. Deleting the oldest day row by row is
-- hours of work, bloat and vacuum load; dropping the table that holds that
-- day is a catalog change. So price_update_log and fetcher_logs become
-- range-partitioned by "timestamp", one partition per UTC day:
--
--   <table>_pYYYYMMDD  FOR VALUES FROM ('YYYY-MM-DD 00:00+00') TO (next day)
--   <table>_default    DEFAULT: a row whose day has no partition yet (a
--                      clock far off, a row written by hand for an old
--                      day) waits here instead of failing its whole batch;
--                      fetcher_partitions_ensure moves it into its day.
--
-- fetcherd calls fetcher_partitions_ensure (today and a few days ahead) at
-- start and every hour, and fetcher_partitions_drop once a day: a day's
-- partition is dropped when its whole day is older than the bound, so
-- after retention no row older than the start (00:00 UTC) of the bound's
-- day is left, and none younger than the bound went.
--
-- What stays as it was, and why:
--   fetcher_cycles      one row per cycle (144 a day per instance whatever
--                       the number of assets), kept forever as history.
--   fetcher_statistics  one row per STATS_PERSIST_INTERVAL and per cycle
--                       (~1,600 a day), independent of the number of
--                       assets; its daily DELETE of ~1,600 rows takes
--                       milliseconds.
--   asset_prices        intraday rows keep "each asset's newest row
--                       whatever its age" (migration 007): a day cannot be
--                       dropped whole without first saving the newest row
--                       of every asset that has not moved since, and every
--                       "latest price" lookup (the cycle's own check, the
--                       API's asset list, the portfolio valuation) would
--                       become a merge over every day's index instead of
--                       one index probe. Since 007 it stores only real
--                       price changes; its retention deletes asset by
--                       asset, as before.
--
-- Keys. A partitioned table's unique indexes must contain the partition
-- key, so the primary keys become (id, "timestamp") and the idempotency
-- keys (instance_id, seq, "timestamp"). ids stay unique (one identity
-- sequence), and a batch the writer sends again carries the same
-- timestamps (they are part of the batch), so a retried row still
-- conflicts with itself.
--
-- The conversion copies every row, keeps every id and lets the sequences
-- continue where they were. It runs in the migration's one transaction
-- with both tables locked: measured at 10 million rows by
-- `bench/migration.sh` (README, "Upgrades").
--
-- Also here: pg_trgm and a trigram index on fetcher_logs.message, so the
-- API's log search (q=) is an index lookup instead of a scan; log counts
-- per day and level, so a dropped day's rows leave the exact counters
-- with it (and update rows and failures per day and provider, for
-- /metrics and retention); indexes for keyset pages of failed updates.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

SET LOCAL maintenance_work_mem = '256MB';

LOCK TABLE fetcher_logs, price_update_log IN ACCESS EXCLUSIVE MODE;

-- ---- partition upkeep ------------------------------------------------------

-- The partition of p_table for the UTC day p_day, created if missing (true
-- then). Rows of that day waiting in the default partition move into it.
-- Created standalone and ATTACHed: ATTACH takes only a SHARE UPDATE
-- EXCLUSIVE lock on the parent, so API readers and writers go on.
CREATE FUNCTION fetcher_partition_add(p_table text, p_day date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_part text := p_table || '_p' || to_char(p_day, 'YYYYMMDD');
    v_def text := p_table || '_default';
    v_lo timestamptz := p_day::timestamp AT TIME ZONE 'UTC';
    v_hi timestamptz := (p_day + 1)::timestamp AT TIME ZONE 'UTC';
    v_waiting boolean;
BEGIN
    IF p_table NOT IN ('fetcher_logs', 'price_update_log') THEN
        RAISE EXCEPTION 'fetcher_partition_add: % is not a partitioned table of ours', p_table;
    END IF;
    IF to_regclass(quote_ident(v_part)) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS'
                   ' INCLUDING STORAGE)', v_part, p_table);
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE "timestamp" >= $1'
                   ' AND "timestamp" < $2)', v_def) INTO v_waiting USING v_lo, v_hi;
    IF v_waiting THEN
        -- no row of this day may arrive in the default partition meanwhile
        EXECUTE format('LOCK TABLE %I IN SHARE ROW EXCLUSIVE MODE', v_def);
        EXECUTE format('WITH m AS (DELETE FROM %I WHERE "timestamp" >= $1 AND "timestamp" < $2'
                       ' RETURNING *) INSERT INTO %I SELECT * FROM m', v_def, v_part)
            USING v_lo, v_hi;
    END IF;
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                   p_table, v_part, v_lo, v_hi);
    RETURN true;
END
$$;

-- Both tables' partitions from yesterday to p_ahead days after p_now (UTC
-- days), and one for every day that has rows waiting in a default
-- partition. Idempotent; concurrent callers (several fetcherd) queue on
-- one advisory lock, so two never create the same partition. Returns how
-- many partitions it created.
CREATE FUNCTION fetcher_partitions_ensure(p_ahead int, p_now timestamptz DEFAULT now())
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_table text;
    v_day date;
    v_today date := (p_now AT TIME ZONE 'UTC')::date;
    v_made int := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(7318406118);
    -- a busy API must not queue behind us for long, nor we behind it
    PERFORM set_config('lock_timeout', '5s', true);
    FOREACH v_table IN ARRAY ARRAY['fetcher_logs', 'price_update_log'] LOOP
        FOR v_day IN
            SELECT generate_series((v_today - 1)::timestamp,
                                   (v_today + greatest(p_ahead, 0))::timestamp, '1 day')::date
            UNION
            SELECT d FROM fetcher_partition_waiting(v_table) d
            ORDER BY 1
        LOOP
            IF fetcher_partition_add(v_table, v_day) THEN
                v_made := v_made + 1;
            END IF;
        END LOOP;
    END LOOP;
    RETURN v_made;
END
$$;

-- The UTC days of the rows waiting in p_table's default partition.
CREATE FUNCTION fetcher_partition_waiting(p_table text) RETURNS SETOF date
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT DISTINCT ("timestamp" AT TIME ZONE ''UTC'')::date'
                                ' FROM %I', p_table || '_default');
END
$$;

-- Retention: drops every day partition of p_table whose whole day is older
-- than p_now - p_days (its upper bound at or before that), after moving
-- waiting rows into their days. Returns how many rows went. For
-- both tables the day's counters go with it (exact: they are kept per
-- day by triggers) and say how many rows went. Never a
-- DELETE of rows.
CREATE FUNCTION fetcher_partitions_drop(p_table text, p_days int,
                                        p_now timestamptz DEFAULT now())
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_bound timestamptz := p_now - make_interval(days => p_days);
    v_part record;
    v_n bigint;
    v_total bigint := 0;
BEGIN
    IF p_table NOT IN ('fetcher_logs', 'price_update_log') THEN
        RAISE EXCEPTION 'fetcher_partitions_drop: % is not a partitioned table of ours', p_table;
    END IF;
    PERFORM fetcher_partitions_ensure(0, p_now);
    FOR v_part IN
        SELECT c.relname, to_date(right(c.relname, 8), 'YYYYMMDD') AS day
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = p_table::regclass
          AND c.relname ~ ('^' || p_table || '_p[0-9]{8}$')
          AND (to_date(right(c.relname, 8), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC'
              <= v_bound
        ORDER BY 2
    LOOP
        -- The parent first: a drop needs it exclusively, and taking it before
        -- the counters keeps the lock order of the writers (parent, then
        -- counters), so the two cannot deadlock. The day's counters go
        -- with it; they say how many rows it held.
        EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', p_table);
        IF p_table = 'fetcher_logs' THEN
            WITH gone AS (DELETE FROM fetcher_log_counts WHERE day = v_part.day RETURNING n)
            SELECT coalesce(sum(n), 0) INTO v_n FROM gone;
        ELSE
            WITH gone AS (DELETE FROM price_update_counts WHERE day = v_part.day RETURNING n)
            SELECT coalesce(sum(n), 0) INTO v_n FROM gone;
        END IF;
        EXECUTE format('DROP TABLE %I', v_part.relname);
        v_total := v_total + v_n;
    END LOOP;
    RETURN v_total;
END
$$;

-- ---- log counts per day ----------------------------------------------------

-- Migration 003 counted rows per level; per (UTC day, level) the counts of
-- a dropped day can be dropped with it. Readers sum over days (a few
-- hundred rows at most).
DROP TRIGGER fetcher_logs_count_ins ON fetcher_logs;
DROP TRIGGER fetcher_logs_count_del ON fetcher_logs;
DROP TRIGGER fetcher_logs_count_upd ON fetcher_logs;
DROP TRIGGER fetcher_logs_count_trunc ON fetcher_logs;
DROP TABLE fetcher_log_counts;
CREATE TABLE fetcher_log_counts (
    day   date NOT NULL,
    level text NOT NULL,
    n     bigint NOT NULL CHECK (n >= 0),
    PRIMARY KEY (day, level)
);

CREATE OR REPLACE FUNCTION fetcher_log_counts_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fetcher_log_counts AS c (day, level, n)
    SELECT ("timestamp" AT TIME ZONE 'UTC')::date, level, count(*) FROM new_rows
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (day, level) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION fetcher_log_counts_del() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d record;
BEGIN
    FOR d IN SELECT ("timestamp" AT TIME ZONE 'UTC')::date AS day, level, count(*) AS k
             FROM old_rows GROUP BY 1, 2 ORDER BY 1, 2 LOOP
        UPDATE fetcher_log_counts SET n = n - d.k WHERE day = d.day AND level = d.level;
    END LOOP;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION fetcher_log_counts_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fetcher_log_counts AS c (day, level, n)
    SELECT day, level, sum(k)::bigint FROM (
        SELECT ("timestamp" AT TIME ZONE 'UTC')::date AS day, level, 1 AS k FROM new_rows
        UNION ALL
        SELECT ("timestamp" AT TIME ZONE 'UTC')::date, level, -1 FROM old_rows) x
    GROUP BY day, level HAVING sum(k) <> 0 ORDER BY day, level
    ON CONFLICT (day, level) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION fetcher_log_counts_trunc() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM fetcher_log_counts;
    RETURN NULL;
END $$;

-- ---- update rows per day and provider --------------------------------------

-- How many price_update_log rows each day holds, and how many failed, per
-- provider (of the asset when the row was written), kept by statement-
-- level triggers like the log counts and dropped with their day. /metrics
-- reads its failures by provider here (counting the failed rows at read
-- time took 48 s at 44 million rows), and retention the number of rows a
-- dropped day held (a count(*) of the day took most of a second).
CREATE TABLE price_update_counts (
    day      date NOT NULL,
    provider text NOT NULL,
    n        bigint NOT NULL CHECK (n >= 0),
    failed   bigint NOT NULL CHECK (failed >= 0),
    PRIMARY KEY (day, provider)
);
CREATE FUNCTION price_update_counts_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO price_update_counts AS c (day, provider, n, failed)
    SELECT (r."timestamp" AT TIME ZONE 'UTC')::date, coalesce(a.provider, 'unknown'), count(*),
           count(*) FILTER (WHERE NOT r.success)
    FROM new_rows r LEFT JOIN assets a ON a.id = r.asset_id
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (day, provider) DO UPDATE SET n = c.n + EXCLUDED.n, failed = c.failed + EXCLUDED.failed;
    RETURN NULL;
END $$;
-- fetcherd never deletes update rows; by hand they leave the counts of the
-- asset's provider now (which may since have changed; never below zero)
CREATE FUNCTION price_update_counts_del() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d record;
BEGIN
    FOR d IN SELECT (r."timestamp" AT TIME ZONE 'UTC')::date AS day,
                    coalesce(a.provider, 'unknown') AS provider, count(*) AS k,
                    count(*) FILTER (WHERE NOT r.success) AS f
             FROM old_rows r LEFT JOIN assets a ON a.id = r.asset_id
             GROUP BY 1, 2 ORDER BY 1, 2 LOOP
        UPDATE price_update_counts SET n = greatest(n - d.k, 0), failed = greatest(failed - d.f, 0)
        WHERE day = d.day AND provider = d.provider;
    END LOOP;
    RETURN NULL;
END $$;
CREATE FUNCTION price_update_counts_trunc() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM price_update_counts;
    RETURN NULL;
END $$;

-- ---- the conversion --------------------------------------------------------

-- Every day that has rows, found through the old table's timestamp index
-- one day at a time (a skip scan), not by reading every row.
CREATE FUNCTION pg_temp.days_of(p_table text) RETURNS SETOF date LANGUAGE plpgsql AS $$
DECLARE
    v_day date;
BEGIN
    EXECUTE format('SELECT (min("timestamp") AT TIME ZONE ''UTC'')::date FROM %I', p_table)
        INTO v_day;
    WHILE v_day IS NOT NULL LOOP
        RETURN NEXT v_day;
        EXECUTE format('SELECT (min("timestamp") AT TIME ZONE ''UTC'')::date FROM %I'
                       ' WHERE "timestamp" >= $1', p_table)
            INTO v_day USING (v_day + 1)::timestamp AT TIME ZONE 'UTC';
    END LOOP;
END
$$;

-- Renames the old table (and its sequence) away, creates the partitioned
-- table with the same columns, defaults and checks, a partition for every
-- day with rows and for today and the next three, copies every row with
-- its id, and sets the new identity sequence where the old one was.
CREATE FUNCTION pg_temp.convert(p_table text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_old text := p_table || '_unpartitioned';
    v_last bigint;
    v_called boolean;
    v_day date;
BEGIN
    EXECUTE format('ALTER TABLE %I RENAME TO %I', p_table, v_old);
    EXECUTE format('ALTER SEQUENCE %I RENAME TO %I', p_table || '_id_seq', v_old || '_id_seq');
    EXECUTE format('SELECT last_value, is_called FROM %I', v_old || '_id_seq')
        INTO v_last, v_called;
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS'
                   ' INCLUDING IDENTITY INCLUDING STORAGE) PARTITION BY RANGE ("timestamp")',
                   p_table, v_old);
    EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', p_table || '_default', p_table);
    FOR v_day IN
        SELECT d FROM pg_temp.days_of(v_old) d
        UNION
        SELECT generate_series(date_trunc('day', now() AT TIME ZONE 'UTC') - interval '1 day',
                               date_trunc('day', now() AT TIME ZONE 'UTC') + interval '3 days',
                               '1 day')::date
        ORDER BY 1
    LOOP
        PERFORM fetcher_partition_add(p_table, v_day);
    END LOOP;
    EXECUTE format('INSERT INTO %I OVERRIDING SYSTEM VALUE SELECT * FROM %I', p_table, v_old);
    PERFORM setval(pg_get_serial_sequence(quote_ident(p_table), 'id'), v_last, v_called);
    EXECUTE format('DROP TABLE %I', v_old);
END
$$;

SELECT pg_temp.convert('fetcher_logs');
SELECT pg_temp.convert('price_update_log');

-- Indexes after the copy: built per partition by sorting, not row by row.
-- Each serves a query of the API or the daemon (bench/plans/ shows them).
ALTER TABLE fetcher_logs ADD PRIMARY KEY (id, "timestamp");
-- the idempotency key of the writer's batches
ALTER TABLE fetcher_logs ADD UNIQUE (instance_id, seq, "timestamp");
-- pages newest first, with or without a level filter (the keyset cursor)
CREATE INDEX fetcher_logs_level_id ON fetcher_logs (level, id DESC);
-- since/until within a day
CREATE INDEX fetcher_logs_timestamp ON fetcher_logs ("timestamp");
CREATE INDEX fetcher_logs_cycle ON fetcher_logs (cycle_id) WHERE cycle_id IS NOT NULL;
-- q= (case-insensitive substring search, ILIKE)
CREATE INDEX fetcher_logs_message_trgm ON fetcher_logs USING gin (message gin_trgm_ops);

ALTER TABLE price_update_log ADD PRIMARY KEY (id, "timestamp");
ALTER TABLE price_update_log ADD UNIQUE (instance_id, seq, "timestamp");
ALTER TABLE price_update_log ADD FOREIGN KEY (asset_id) REFERENCES assets (id) ON DELETE SET NULL;
-- a cycle's updates (/cycles/{id}); its failed-over ones
CREATE INDEX price_update_log_cycle ON price_update_log (cycle_id);
CREATE INDEX price_update_log_failover ON price_update_log (cycle_id)
    WHERE failover_reason IS NOT NULL;
-- recent updates of one asset (symbol=), newest first
CREATE INDEX price_update_log_asset ON price_update_log (asset_id, id DESC);
-- failed updates newest first (success=false), of one asset too, and the
-- per-provider error counts of /metrics
CREATE INDEX price_update_log_failed ON price_update_log (asset_id, id DESC) WHERE NOT success;
CREATE INDEX price_update_log_failed_id ON price_update_log (id DESC) WHERE NOT success;

-- The counters, from the rows as they are now.
INSERT INTO fetcher_log_counts (day, level, n)
SELECT ("timestamp" AT TIME ZONE 'UTC')::date, level, count(*) FROM fetcher_logs GROUP BY 1, 2;

CREATE TRIGGER fetcher_logs_count_ins AFTER INSERT ON fetcher_logs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fetcher_log_counts_ins();
CREATE TRIGGER fetcher_logs_count_del AFTER DELETE ON fetcher_logs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fetcher_log_counts_del();
CREATE TRIGGER fetcher_logs_count_upd AFTER UPDATE ON fetcher_logs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fetcher_log_counts_upd();
CREATE TRIGGER fetcher_logs_count_trunc AFTER TRUNCATE ON fetcher_logs
    FOR EACH STATEMENT EXECUTE FUNCTION fetcher_log_counts_trunc();

INSERT INTO price_update_counts (day, provider, n, failed)
SELECT (p."timestamp" AT TIME ZONE 'UTC')::date, coalesce(a.provider, 'unknown'), count(*),
       count(*) FILTER (WHERE NOT p.success)
FROM price_update_log p LEFT JOIN assets a ON a.id = p.asset_id GROUP BY 1, 2;

CREATE TRIGGER price_update_counts_ins AFTER INSERT ON price_update_log
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION price_update_counts_ins();
CREATE TRIGGER price_update_counts_del AFTER DELETE ON price_update_log
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION price_update_counts_del();
CREATE TRIGGER price_update_counts_trunc AFTER TRUNCATE ON price_update_log
    FOR EACH STATEMENT EXECUTE FUNCTION price_update_counts_trunc();

ANALYZE fetcher_logs;
ANALYZE price_update_log;

DROP FUNCTION pg_temp.convert(text);
DROP FUNCTION pg_temp.days_of(text);
