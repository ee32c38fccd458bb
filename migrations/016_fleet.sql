-- fetcherd schema, version 16: several fetcherd on one database.
--
-- The instances coordinate through these two tables and nothing else
-- (daemon/fleet.c says how):
--
-- fetcher_lease: one row per lease. The 'schedule' lease says which
-- instance decides that a cycle is due. It is taken and renewed with one
-- UPDATE judged by the database's now() (so the instances' clocks do not
-- matter), expires 3 × HEARTBEAT_INTERVAL after its last renewal, and
-- epoch counts the changes of holder.
--
-- fetcher_work: the assets of a cycle that several instances share, one
-- row each. The leader inserts them with the cycle's row; every instance
-- claims them in batch-sized chunks of one provider (FOR UPDATE SKIP
-- LOCKED), and the statement that records an asset's result marks its row
-- done only while the claim is still the recorder's, so an asset is
-- recorded once per cycle whoever fetched it. Claims of an instance that
-- stopped heartbeating return to the pool. The rows of a cycle are deleted
-- when it is finished. No foreign key to fetcher_cycles: a cycle's rows
-- are removed with it by the statement that finishes it.

CREATE TABLE fetcher_lease (
    name        text PRIMARY KEY,
    holder      text,
    epoch       bigint NOT NULL DEFAULT 0,
    acquired_at timestamptz,
    expires_at  timestamptz
);
INSERT INTO fetcher_lease (name) VALUES ('schedule');

CREATE TABLE fetcher_work (
    cycle_id   bigint NOT NULL,
    asset_id   bigint NOT NULL,
    provider   text NOT NULL,
    owner      text,
    claimed_at timestamptz,
    done_at    timestamptz,
    success    boolean,
    PRIMARY KEY (cycle_id, asset_id)
);
-- what is left to claim, in the order claims take it
CREATE INDEX fetcher_work_open ON fetcher_work (cycle_id, provider, asset_id)
    WHERE owner IS NULL AND done_at IS NULL;
-- claims held, for returning a dead instance's to the pool
CREATE INDEX fetcher_work_claimed ON fetcher_work (owner)
    WHERE owner IS NOT NULL AND done_at IS NULL;

-- When the instance last renewed (or tried to take) the lease: its
-- liveness for the fleet. The heartbeat row is written behind the
-- instance's queued writes, so under a burst of writes it can be seconds
-- late; the lease statement is not queued behind them.
ALTER TABLE fetcher_instances ADD COLUMN seen_at timestamptz;

-- A cycle shared by the fleet: which instances took part.
ALTER TABLE fetcher_cycles ADD COLUMN fleet boolean NOT NULL DEFAULT false;
ALTER TABLE fetcher_cycles ADD COLUMN instances text[];
