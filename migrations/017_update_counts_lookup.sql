-- fetcherd schema, version 17: the per-day update counts (migration 009)
-- look up each new row's provider instead of hashing every asset.
--
-- price_update_counts_ins runs once per INSERT into price_update_log: for
-- fetcherd, once per record_updates statement of 500 rows. Joined to
-- assets, the planner (which knows nothing of the transition table's
-- rows) hashed the whole assets table for every statement: at 10,000
-- tracked assets 3 ms of a 500-row statement's ~35 ms, 20 times a cycle,
-- a cost that grew with the assets tracked and not with the rows written.
-- Looked up row by row (assets_pkey), it reads the 500 rows' assets only.
-- Same counts, same conflict handling; CREATE OR REPLACE keeps the
-- triggers that call it as they are.
CREATE OR REPLACE FUNCTION price_update_counts_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO price_update_counts AS c (day, provider, n, failed)
    SELECT day, provider, count(*), count(*) FILTER (WHERE NOT success)
    FROM (SELECT (r."timestamp" AT TIME ZONE 'UTC')::date AS day,
                 coalesce((SELECT a.provider FROM assets a WHERE a.id = r.asset_id),
                          'unknown') AS provider,
                 r.success
          FROM new_rows r) n
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (day, provider) DO UPDATE SET n = c.n + EXCLUDED.n, failed = c.failed + EXCLUDED.failed;
    RETURN NULL;
END $$;
