-- Demo data: what `make run` / `make demo` load into an EMPTY database (the
-- scripts check first). Not a migration: a real installation tracks its own
-- assets. 20 stocks/ETFs on Yahoo, 10 cryptos on CoinGecko, one EUR listing,
-- and 3 portfolios whose positions overlap, so the fetch queue's
-- de-duplication is visible: 3 portfolios, 43 positions, 31 distinct assets.
BEGIN;

INSERT INTO assets (symbol, name, asset_type, currency, exchange, provider, provider_symbol) VALUES
  ('AAPL',  'Apple Inc.',                 'stock', 'USD', 'NASDAQ', 'yahoo', 'AAPL'),
  ('MSFT',  'Microsoft Corporation',      'stock', 'USD', 'NASDAQ', 'yahoo', 'MSFT'),
  ('GOOGL', 'Alphabet Inc. Class A',      'stock', 'USD', 'NASDAQ', 'yahoo', 'GOOGL'),
  ('AMZN',  'Amazon.com, Inc.',           'stock', 'USD', 'NASDAQ', 'yahoo', 'AMZN'),
  ('NVDA',  'NVIDIA Corporation',         'stock', 'USD', 'NASDAQ', 'yahoo', 'NVDA'),
  ('META',  'Meta Platforms, Inc.',       'stock', 'USD', 'NASDAQ', 'yahoo', 'META'),
  ('TSLA',  'Tesla, Inc.',                'stock', 'USD', 'NASDAQ', 'yahoo', 'TSLA'),
  ('BRK-B', 'Berkshire Hathaway Inc. B',  'stock', 'USD', 'NYSE',   'yahoo', 'BRK-B'),
  ('JPM',   'JPMorgan Chase & Co.',       'stock', 'USD', 'NYSE',   'yahoo', 'JPM'),
  ('V',     'Visa Inc.',                  'stock', 'USD', 'NYSE',   'yahoo', 'V'),
  ('JNJ',   'Johnson & Johnson',          'stock', 'USD', 'NYSE',   'yahoo', 'JNJ'),
  ('WMT',   'Walmart Inc.',               'stock', 'USD', 'NYSE',   'yahoo', 'WMT'),
  ('PG',    'Procter & Gamble Co.',       'stock', 'USD', 'NYSE',   'yahoo', 'PG'),
  ('XOM',   'Exxon Mobil Corporation',    'stock', 'USD', 'NYSE',   'yahoo', 'XOM'),
  ('KO',    'The Coca-Cola Company',      'stock', 'USD', 'NYSE',   'yahoo', 'KO'),
  ('DIS',   'The Walt Disney Company',    'stock', 'USD', 'NYSE',   'yahoo', 'DIS'),
  ('NFLX',  'Netflix, Inc.',              'stock', 'USD', 'NASDAQ', 'yahoo', 'NFLX'),
  ('SPY',   'SPDR S&P 500 ETF Trust',     'etf',   'USD', 'NYSE',   'yahoo', 'SPY'),
  ('QQQ',   'Invesco QQQ Trust',          'etf',   'USD', 'NASDAQ', 'yahoo', 'QQQ'),
  ('VTI',   'Vanguard Total Stock Market ETF', 'etf', 'USD', 'NYSE', 'yahoo', 'VTI'),
  ('SAP.DE','SAP SE',                     'stock', 'EUR', 'XETRA',  'yahoo', 'SAP.DE'),
  ('BTC',   'Bitcoin',                    'crypto', 'USD', NULL, 'coingecko', 'bitcoin'),
  ('ETH',   'Ethereum',                   'crypto', 'USD', NULL, 'coingecko', 'ethereum'),
  ('SOL',   'Solana',                     'crypto', 'USD', NULL, 'coingecko', 'solana'),
  ('BNB',   'BNB',                        'crypto', 'USD', NULL, 'coingecko', 'binancecoin'),
  ('XRP',   'XRP',                        'crypto', 'USD', NULL, 'coingecko', 'ripple'),
  ('ADA',   'Cardano',                    'crypto', 'USD', NULL, 'coingecko', 'cardano'),
  ('DOGE',  'Dogecoin',                   'crypto', 'USD', NULL, 'coingecko', 'dogecoin'),
  ('DOT',   'Polkadot',                   'crypto', 'USD', NULL, 'coingecko', 'polkadot'),
  ('LINK',  'Chainlink',                  'crypto', 'USD', NULL, 'coingecko', 'chainlink'),
  ('LTC',   'Litecoin',                   'crypto', 'USD', NULL, 'coingecko', 'litecoin');

INSERT INTO tracked_assets (asset_id) SELECT id FROM assets;

INSERT INTO portfolios (name, currency) VALUES
  ('Tech Growth', 'USD'), ('Crypto & Core', 'USD'), ('Balanced Europe', 'EUR');

-- Overlap on purpose: AAPL, MSFT, NVDA, SPY, BTC, ETH sit in several portfolios.
INSERT INTO portfolio_positions (portfolio_id, asset_id, quantity, average_buy_price)
SELECT p.id, a.id, v.qty, v.avg
FROM (VALUES
  ('Tech Growth', 'AAPL', 25, 150.00), ('Tech Growth', 'MSFT', 15, 310.00),
  ('Tech Growth', 'GOOGL', 20, 125.00), ('Tech Growth', 'AMZN', 18, 130.00),
  ('Tech Growth', 'NVDA', 30, 420.00), ('Tech Growth', 'META', 10, 290.00),
  ('Tech Growth', 'TSLA', 12, 220.00), ('Tech Growth', 'NFLX', 5, 410.00),
  ('Tech Growth', 'QQQ', 20, 360.00), ('Tech Growth', 'SPY', 10, 430.00),
  ('Tech Growth', 'BTC', 0.15, 42000.00), ('Tech Growth', 'ETH', 2, 2200.00),
  ('Crypto & Core', 'BTC', 0.8, 38000.00), ('Crypto & Core', 'ETH', 6, 1900.00),
  ('Crypto & Core', 'SOL', 40, 95.00), ('Crypto & Core', 'BNB', 10, 310.00),
  ('Crypto & Core', 'XRP', 2500, 0.55), ('Crypto & Core', 'ADA', 3000, 0.42),
  ('Crypto & Core', 'DOGE', 10000, 0.08), ('Crypto & Core', 'DOT', 150, 6.50),
  ('Crypto & Core', 'LINK', 120, 14.00), ('Crypto & Core', 'LTC', 25, 75.00),
  ('Crypto & Core', 'SPY', 15, 440.00), ('Crypto & Core', 'VTI', 30, 220.00),
  ('Crypto & Core', 'AAPL', 10, 170.00), ('Crypto & Core', 'NVDA', 8, 480.00),
  ('Balanced Europe', 'SAP.DE', 40, 160.00), ('Balanced Europe', 'AAPL', 15, 160.00),
  ('Balanced Europe', 'MSFT', 10, 330.00), ('Balanced Europe', 'BRK-B', 12, 350.00),
  ('Balanced Europe', 'JPM', 20, 150.00), ('Balanced Europe', 'V', 15, 240.00),
  ('Balanced Europe', 'JNJ', 25, 160.00), ('Balanced Europe', 'WMT', 30, 60.00),
  ('Balanced Europe', 'PG', 20, 150.00), ('Balanced Europe', 'XOM', 25, 105.00),
  ('Balanced Europe', 'KO', 40, 58.00), ('Balanced Europe', 'DIS', 15, 95.00),
  ('Balanced Europe', 'SPY', 8, 450.00), ('Balanced Europe', 'VTI', 20, 225.00),
  ('Balanced Europe', 'NVDA', 5, 500.00), ('Balanced Europe', 'BTC', 0.05, 45000.00),
  ('Balanced Europe', 'ETH', 1, 2500.00)
) AS v (pname, sym, qty, avg)
JOIN portfolios p ON p.name = v.pname
JOIN assets a ON a.symbol = v.sym;

COMMIT;
