/*
 * handlers — every endpoint of fetcher-api, one function each, grouped into
 * one file per group of endpoints:
 *
 *   ep_health.c   /healthz, /readyz
 *   ep_status.c   /api/fetcher/status, /statistics, /queue
 *   ep_logs.c     /api/fetcher/logs, /recent-updates, /cycles, /cycles/{id}
 *   ep_data.c     /api/fetcher/assets, /portfolios
 *   ep_history.c  /api/fetcher/assets/{symbol}/history, /api/fetcher/history
 *   ep_trigger.c  POST /api/fetcher/trigger-update
 *   ep_control.c  POST/DELETE /api/fetcher/assets…, /pause, /resume
 *   ep_metrics.c  /metrics, /api/fetcher/events (events.c does the work)
 *   ep_portfolios.c  POST/GET/PATCH/DELETE /api/fetcher/portfolios/{id}…,
 *                 positions, CSV import
 *   ep_search.c   /api/fetcher/search (the providers' own symbol search)
 *   ep_start.c    POST /api/fetcher/demo, /api/fetcher/openapi.json
 *   ep_alerts.c   /api/fetcher/alerts (alerts.c raises them)
 *   static.c      the dashboard's files
 *
 * Each answers exactly once through http.h. Only routes.c calls them.
 */
#ifndef FETCHER_API_HANDLERS_H
#define FETCHER_API_HANDLERS_H

#include "routes.h"
#include "sql.h"

/* All share one signature, written out in full so that grep and ctags
 * find each handler by its name. */
enum MHD_Result ep_healthz(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_readyz(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_status(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_statistics(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_queue(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_logs(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_recent_updates(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_cycles(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_cycle(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_assets(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_portfolios(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_history(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_history_batch(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_trigger_update(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_track(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_untrack(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_refresh(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_pause(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_resume(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_metrics(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_events(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_portfolio_create(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_portfolio_get(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_portfolio_update(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_portfolio_delete(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_position_add(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_position_update(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_position_delete(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_portfolio_import(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_search(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_demo_load(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_openapi(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result ep_alerts(struct MHD_Connection *conn, const struct api_request *req);
enum MHD_Result static_serve(struct MHD_Connection *conn, const struct api_request *req);

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
