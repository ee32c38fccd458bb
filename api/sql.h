/*
 * sql — every statement fetcher-api runs, in one table of named,
 * parameterised statements (STYLE rule 7). Each worker thread prepares the
 * whole table once per connection (apidb.c); handlers name a statement by
 * its enum and pass parameters as text, NULL meaning "no filter".
 *
 * List endpoints let PostgreSQL build the JSON document (json_build_object /
 * json_agg): one round trip, one consistent snapshot for rows and totals,
 * and no parse-and-rebuild in C. Status is assembled in C because deciding
 * running/stopped/degraded is our rule, not the database's.
 */
#ifndef FETCHER_API_SQL_H
#define FETCHER_API_SQL_H

#include "db.h"

#include <stddef.h>

enum api_stmt {
    SQL_INSTANCES,      /* $1 live window (s) → instance rows, newest heartbeat first */
    SQL_STATUS_SUMMARY, /* → tracked count, last update, paused, paused_at, paused_by */
    SQL_STATISTICS,     /* $1 live window (s) → one JSON document */
    SQL_LOGS,           /* $1 limit $2 offset $3 level $4 levels[] $5 since $6 until
                           $7 cycle_id $8 q $9 before_id → JSON */
    SQL_RECENT_UPDATES, /* $1 limit $2 symbol $3 success $4 before_id → JSON */
    SQL_TRIGGER,        /* $1 payload → pg_notify */
    SQL_CYCLES,         /* $1 limit $2 offset $3 status $4 before_id → JSON */
    SQL_CYCLE,          /* $1 id → JSON or no row */
    SQL_ASSETS,         /* → JSON */
    SQL_PORTFOLIOS,     /* → JSON */
    SQL_QUEUE,          /* $1 live window (s) → JSON */
    SQL_LOGS_FAST,      /* $1 limit $2 offset $3 level $4 levels[] $5 before_id → JSON;
                           total from fetcher_log_counts (migrations 003, 009) */
    SQL_TRACK,          /* $1 symbol $2 name $3 type $4 currency $5 provider
                           $6 provider_symbol $7 client $8 exchange
                           → tracked now (0/1), asset JSON */
    SQL_UNTRACK,        /* $1 symbol $2 client → rows untracked (0/1) */
    SQL_REFRESH,        /* $1 symbol $2 payload → one row when tracked (and notified) */
    SQL_PAUSE,          /* $1 client $2 control payload $3 event payload → paused, since */
    SQL_RESUME,         /* same → paused, since */
    SQL_METRICS,        /* $1 live window (s) $2 default staleness bound (s) → one JSON
                           document */
    /* The alerts (api/alerts.c). */
    SQL_ALERT_INPUT,     /* $1 live window (s) $2 default staleness bound (s) $3 failed cycles
                            looked at → one JSON document: what the rules judge */
    SQL_ALERT_OPEN,      /* $1 alert $2 subject $3 severity $4 summary $5 fire_notice → id,
                            started_at (epoch ms) when opened now; no row when already open */
    SQL_ALERT_RESOLVE,   /* $1 alert $2 subject $3 resolve_notice → id, severity, summary,
                            started_at, resolved_at (epoch ms); no row when none is open */
    SQL_ALERT_OPEN_LIST, /* → alert, subject of every open alert */
    SQL_ALERT_NOTICE,    /* $1 id $2 'fire'|'resolve' $3 notice $4 attempts $5 last_error */
    SQL_ALERT_PENDING,   /* → id, alert, subject, severity, summary, started_at, resolved_at
                            (epoch ms, resolved_at NULL when open), which ('fire'|'resolve') of
                            every notice still pending, oldest first */
    SQL_ALERT_PURGE,     /* $1 days → resolved alerts older than that deleted */
    SQL_ALERTS,          /* $1 limit $2 status ('firing'|'resolved'|NULL) → JSON */
    /* Portfolios (ep_portfolios.c). Every write also moves
     * portfolios.updated_at and writes its fetcher_logs row, in the same
     * statement. $client is the numeric client address. */
    SQL_PORTFOLIO_CREATE, /* $1 name $2 currency $3 client → document; no row: name taken */
    SQL_PORTFOLIO_GET,    /* $1 id → document, or no row */
    SQL_PORTFOLIO_UPDATE, /* $1 id $2 name $3 currency (NULL = keep) $4 client
                             → found, name taken, document */
    SQL_PORTFOLIO_DELETE, /* $1 id $2 client → rows deleted (0/1) */
    SQL_POSITION_ADD,     /* $1 id $2 symbol $3 quantity $4 price $5 currency $6 client
                             → portfolio found, asset known, position (NULL: held already) */
    SQL_POSITION_UPDATE,  /* $1 id $2 symbol $3 quantity $4 price (NULL = keep) $5 currency
                             $6 set currency (bool) $7 client → portfolio found, position */
    SQL_POSITION_DELETE,  /* $1 id $2 symbol $3 client → portfolio found, rows deleted */
    SQL_IMPORT_CHECK,     /* $1 id $2 [{line, symbol}] → portfolio found,
                             [{line, known, held, tracked}] */
    SQL_IMPORT_COMMIT,    /* $1 id $2 [{symbol, quantity, average_buy_price, currency}]
                             $3 client → portfolio found, positions written */
    SQL_SEARCH_KNOWN,     /* $1 [symbol…] → {symbol: {tracked, provider, provider_symbol}} */
    SQL_DEMO_CHECK,       /* → assets, portfolios (the demo loads into an empty database) */
    SQL_DEMO_DONE,        /* $1 client $2 trigger payload → log row + NOTIFY fetcher_trigger */
    SQL_HISTORY_DAILY,    /* $1 symbol $2 interval back (NULL: all) $3 currency (NULL: the
                             asset's) $4 range name → JSON, or no row (no such asset) */
    SQL_HISTORY_INTRADAY, /* $1 symbol $2 currency $3 range name → JSON or no row */
    SQL_HISTORY_BATCH,    /* $1 symbols text[] (NULL: every tracked one) $2 interval back
                             (NULL: all) $3 intraday (bool) $4 points per symbol $5 range
                             name → JSON */
    SQL_RATE_KNOWN,       /* $1 currency → 1 when a USD rate for it is stored (or USD) */
    SQL_SET_TIMEOUT,      /* $1 ms, $2 plan_cache_mode, $3 enable_seqscan → the session's */
    SQL_LOGS_NARROW,      /* as SQL_LOGS, for cycle_id or q: the matches found first */
    SQL_LOGS_SEARCH,      /* as SQL_LOGS_NARROW with $8 q required: a generic plan */
    SQL_COUNT_
};

/* The table, indexed by enum api_stmt. */
extern const struct db_stmt api_sql[SQL_COUNT_];

#endif
