/*
 * ep_data — the data fetcherd keeps fresh: /api/fetcher/assets (every
 * asset, whether tracked, its latest price and last error) and
 * /api/fetcher/portfolios (valuations from portfolio_performance_cache, as
 * the daemon last computed them; nothing is recomputed per request).
 */
#include "handlers.h"

enum MHD_Result ep_assets(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    return ep_reply_document(conn, SQL_ASSETS, NULL, "no assets");
}

enum MHD_Result ep_portfolios(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    return ep_reply_document(conn, SQL_PORTFOLIOS, NULL, "no portfolios");
}
