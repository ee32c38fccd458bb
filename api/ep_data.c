/*
 * ep_data — the data fetcherd keeps fresh: /api/fetcher/assets (every
 * asset, whether tracked, its latest price and last error) and
 * /api/fetcher/portfolios (valuations from portfolio_performance_cache, as
 * the daemon last computed them; nothing is recomputed per request).
 */
#include "handlers.h"

HANDLER(ep_assets)
{
    (void)req;
    return ep_reply_document(conn, SQL_ASSETS, NULL, "no assets");
}

HANDLER(ep_portfolios)
{
    (void)req;
    return ep_reply_document(conn, SQL_PORTFOLIOS, NULL, "no portfolios");
}
