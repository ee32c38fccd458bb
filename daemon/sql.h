/*
 * sql — every statement fetcherd runs, in one table of named, prepared,
 * parameterised statements (prepared by dbconn on every connect). Writes
 * take one JSONB parameter holding a batch of rows, so a cycle's hundreds of
 * per-asset rows travel in one statement and one round trip; every written
 * row carries (instance_id, seq) and ON CONFLICT DO NOTHING, so a batch sent
 * again after an ambiguous failure never duplicates a row.
 */
#ifndef FETCHER_SQL_H
#define FETCHER_SQL_H

#include "db.h"

#include <stddef.h>

#define SQL_TRACKED_ASSETS "tracked_assets"
#define SQL_ASSETS_BY_SYMBOL "assets_by_symbol"
#define SQL_SETTINGS "settings"
#define SQL_NOTIFY_EVENT "notify_event"
#define SQL_CURRENCIES "currencies"
#define SQL_RECORD_RATES "record_rates"
#define SQL_CYCLE_START "cycle_start"
#define SQL_RESERVE_CYCLE_IDS "reserve_cycle_ids"
#define SQL_CYCLE_FINISH "cycle_finish"
#define SQL_RECORD_UPDATES "record_updates"
#define SQL_LOGS "insert_logs"
#define SQL_RECALC_PORTFOLIOS "recalc_portfolios"
#define SQL_PERSIST_STATS "persist_stats"
#define SQL_HEARTBEAT "heartbeat"
#define SQL_ABORT_STALE "abort_stale_cycles"
#define SQL_FLEET_LEASE "fleet_lease"
#define SQL_FLEET_LEASE_RELEASE "fleet_lease_release"
#define SQL_FLEET_PLAN "fleet_plan"
#define SQL_FLEET_CLAIM "fleet_claim"
#define SQL_FLEET_FINISH "fleet_finish"
#define SQL_FLEET_REAP "fleet_reap"
#define SQL_FLEET_RELEASE_MINE "fleet_release_mine"
#define SQL_PARTITIONS_ENSURE "partitions_ensure"
#define SQL_RETAIN_LOGS "retain_logs"
#define SQL_RETAIN_UPDATES "retain_updates"
#define SQL_RETAIN_STATS "retain_stats"
#define SQL_RETAIN_PRICES "retain_prices"
#define SQL_BACKFILL_TODO "backfill_todo"
#define SQL_BACKFILL_STORE "backfill_store"
#define SQL_BACKFILL_FAILED "backfill_failed"

/* Run once at start (blocking, before the loop) when FETCHER_INSTANCE_ID
 * is fixed: the instance's cycles left 'running' by its previous life are
 * aborted, and its cycle numbers continue after the last one ($1 = id). */
extern const char sql_resume_instance[];
/* Run once at start (blocking, before the loop), and hourly from the
 * loop as SQL_PARTITIONS_ENSURE: $1 = days ahead. */
extern const char sql_partitions_ensure[];

extern const struct db_stmt sql_statements[];
extern const size_t sql_statement_count;

#endif
