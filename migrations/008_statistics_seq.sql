-- fetcherd schema, version 8: a statistics row written twice is one row.
--
-- Every row fetcherd writes carries (instance_id, seq) and ON CONFLICT DO
-- NOTHING, so a batch the writer sends again after an ambiguous failure (the
-- connection lost after the server committed) is not stored twice — every
-- row but fetcher_statistics', which had no seq. Rows written before this
-- version keep seq NULL (NULLs are distinct: the index allows them).

ALTER TABLE fetcher_statistics ADD COLUMN seq bigint;
CREATE UNIQUE INDEX fetcher_statistics_instance_seq ON fetcher_statistics (instance_id, seq);
