/*
 * handlers — every endpoint of fetcher-api, one function each, grouped into
 * one file per group of endpoints:
 *
 *   ep_health.c   /healthz, /readyz
 *   ep_status.c   /api/fetcher/status, /statistics, /queue
 *   ep_logs.c     /api/fetcher/logs, /recent-updates, /cycles, /cycles/{id}
 *   ep_data.c     /api/fetcher/assets, /portfolios
 *   ep_trigger.c  POST /api/fetcher/trigger-update
 *   ep_control.c  POST/DELETE /api/fetcher/assets…, /pause, /resume
 *   ep_metrics.c  /metrics, /api/fetcher/events (events.c does the work)
 *   static.c      the dashboard's files
 *
 * Each answers exactly once through http.h. Only routes.c calls them.
 */
#ifndef FETCHER_API_HANDLERS_H
#define FETCHER_API_HANDLERS_H

#include "routes.h"
#include "sql.h"

#define HANDLER(name)                                                                              \
    enum MHD_Result name(struct MHD_Connection *conn, const struct api_request *req)

HANDLER(ep_healthz);
HANDLER(ep_readyz);
HANDLER(ep_status);
HANDLER(ep_statistics);
HANDLER(ep_queue);
HANDLER(ep_logs);
HANDLER(ep_recent_updates);
HANDLER(ep_cycles);
HANDLER(ep_cycle);
HANDLER(ep_assets);
HANDLER(ep_portfolios);
HANDLER(ep_trigger_update);
HANDLER(ep_track);
HANDLER(ep_untrack);
HANDLER(ep_refresh);
HANDLER(ep_pause);
HANDLER(ep_resume);
HANDLER(ep_metrics);
HANDLER(ep_events);
HANDLER(static_serve);

/* The dashboard directory is looked up once at start-up (static.c).
 * Returns 0, or -1 when it does not exist (files then answer 404). */
int static_setup(void) MUST_CHECK;

/* Runs stmt, which returns one JSON document in one column, and sends it
 * unchanged (200); no row or NULL answers 404 with the message not_found. */
enum MHD_Result ep_reply_document(struct MHD_Connection *conn, enum api_stmt stmt,
                                  const char *const *params, const char *not_found) MUST_CHECK;

/* Live window for heartbeats in seconds: max(3 × HEARTBEAT_INTERVAL, 15). */
int ep_live_window_s(void);

#endif
