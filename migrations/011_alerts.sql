-- fetcherd schema, version 11: the alerts fetcher-api raises (api/alerts.c)
-- and what became of their notifications.
--
-- One row per occurrence of a condition: it opens when the condition starts
-- (daemon stopped, prices stale, a provider blocked or offline for
-- ALERT_AFTER, N failed cycles in a row) and is closed (resolved_at) when
-- it ends. The partial unique index is the dedupe: at most one open row per
-- (alert, subject), so a condition that persists, or several fetcher-api
-- processes seeing it at once, make one row and one notification, and a
-- restarted fetcher-api finds the row instead of telling again.
-- fire_notice / resolve_notice say whether the webhook heard of it:
-- 'off' (no ALERT_WEBHOOK_URL), 'pending', 'sent', 'rejected' (the
-- receiver refused it for good, a 4xx) or 'dropped' (the bounded queue
-- overflowed); a 'pending' one is queued again when fetcher-api starts.

CREATE TABLE fetcher_alerts (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert          text NOT NULL CHECK (alert ~ '^[a-z_]{1,40}$'),
    subject        text NOT NULL DEFAULT '' CHECK (length(subject) <= 64),
    severity       text NOT NULL CHECK (severity IN ('warning', 'critical')),
    summary        text NOT NULL CHECK (length(summary) <= 500),
    started_at     timestamptz NOT NULL DEFAULT now(),
    resolved_at    timestamptz,
    fire_notice    text NOT NULL CHECK (fire_notice IN
                       ('off', 'pending', 'sent', 'rejected', 'dropped')),
    resolve_notice text CHECK (resolve_notice IN
                       ('off', 'pending', 'sent', 'rejected', 'dropped')),
    attempts       integer NOT NULL DEFAULT 0,
    last_error     text
);

CREATE UNIQUE INDEX fetcher_alerts_open ON fetcher_alerts (alert, subject)
    WHERE resolved_at IS NULL;
-- the pending notices a starting fetcher-api queues again
CREATE INDEX fetcher_alerts_pending ON fetcher_alerts (id)
    WHERE fire_notice = 'pending' OR resolve_notice = 'pending';
