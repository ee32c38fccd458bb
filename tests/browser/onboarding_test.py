#!/usr/bin/python3
"""A new user's first minutes on the dashboard, in headless Chromium
(Debian's chromium + chromium-driver + python3-selenium), from an empty
database to a valued portfolio (issue 17):

  empty state (status idle, how to start) → search "apple" (fakemarket
  replays a recorded real Yahoo search answer) → a bad query and an unknown
  provider get the API's 400 next to the box → track AAPL and AAPU →
  create a portfolio → import a three-line CSV (one bad line reported,
  nothing written until confirmed) → recalculate → the portfolio's value
  equals Σ quantity × latest price computed from the database → untrack
  from the asset row → dark and phone widths; the demo data loads from the
  button into another empty database; no console errors besides the 400s
  the test asks for.

    API_URL=… API_URL_DEMO=… DATABASE_URL=… DATABASE_URL_DEMO=… \\
      /usr/bin/python3 tests/browser/onboarding_test.py

Prints "ok - …" / "not ok - …" lines (tests/integration/browser_onboarding.sh
counts them), "# bench first_minutes_to_valued_portfolio N s", and saves a
screenshot of each step in SCREENSHOT_DIR (build/screenshots/onboarding-*).
"""
import os
import subprocess
import sys
import time
import traceback
import urllib.request
import json

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dashboard_test import (  # noqa: E402  the same browser set-up and helpers
    Console, attr, body_bg, luminance, make_driver, q, qa, screenshot, set_viewport, wait_until)
from selenium.webdriver.common.by import By  # noqa: E402

API = os.environ.get('API_URL', '').rstrip('/')
API_DEMO = os.environ.get('API_URL_DEMO', '').rstrip('/')
DB = os.environ.get('DATABASE_URL', '')
DB_DEMO = os.environ.get('DATABASE_URL_DEMO', '')

passed = failed = 0


def ok(desc):
    global passed
    passed += 1
    print(f'ok - {desc}', flush=True)


def not_ok(desc, detail=''):
    global failed
    failed += 1
    print(f'not ok - {desc}', flush=True)
    for line in str(detail).splitlines()[:8]:
        print(f'#   {line}', flush=True)


def check(desc, cond, detail=''):
    (ok if cond else not_ok)(desc, *([detail] if not cond else []))
    return cond


def sql(query, db=None):
    out = subprocess.run(['psql', db or DB, '-X', '-Atq', '-c', query], capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


def shot(drv, name):
    screenshot(drv, f'onboarding-{name}')


def number(text):
    """'$1,510.00' → 1510.0 (the page's locale is en-US in headless Chromium)"""
    t = ''.join(ch for ch in (text or '') if ch.isdigit() or ch in '.-')
    try:
        return float(t)
    except ValueError:
        return None


def search(drv, text, provider=None):
    box = q(drv, 'search-input')
    box.clear()
    box.send_keys(text)
    if provider is not None:
        drv.execute_script(
            "const s = document.getElementById('search-provider');"
            "const o = document.createElement('option'); o.value = arguments[0]; o.textContent = arguments[0];"
            "s.append(o); s.value = arguments[0];", provider)
    else:
        drv.execute_script("document.getElementById('search-provider').value = ''")
    click(drv, q(drv, 'search-button'))


def click(drv, el):
    """Clicks el after bringing it to the middle of the screen (the sticky
    header must not cover it)."""
    drv.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
    el.click()


def row(drv, testid, symbol):
    for r in qa(drv, testid):
        if r.get_attribute('data-symbol') == symbol:
            return r
    return None


def test_first_minutes(drv):
    t0 = time.time()
    drv.get(f'{API}/')
    st = wait_until(lambda: attr(drv, 'status', 'data-status') == 'idle', 20)
    check('an empty database: the status says idle', st, attr(drv, 'status', 'data-status'))
    reason = q(drv, 'degraded-reason').text
    check('…and why, in words: no assets tracked', 'no assets tracked' in reason, reason)
    check('the page shows how to start (add, import, demo)',
          wait_until(lambda: q(drv, 'start-empty').is_displayed(), 5) and q(drv, 'demo-load').is_displayed()
          and 'Import a portfolio' in q(drv, 'start-empty').text, q(drv, 'start-panel').text[:300])
    check('no "successful" empty cycle: total cycles 0, success rate "—"',
          wait_until(lambda: q(drv, 'total-cycles').text == '0' and '—' in q(drv, 'success-rate').text, 10),
          f'{q(drv, "total-cycles").text} / {q(drv, "success-rate").text}')
    check('the empty cycles are counted apart',
          wait_until(lambda: 'empty' in q(drv, 'empty-cycles').text, 10), q(drv, 'empty-cycles').text)
    link = drv.find_element(By.CSS_SELECTOR, '[data-testid="api-link"]')
    href = link.get_attribute('href')
    with urllib.request.urlopen(href, timeout=10) as r:
        doc = json.loads(r.read())
    check("the header's API link opens the OpenAPI document", href.endswith('/api/fetcher/openapi.json')
          and str(doc.get('openapi', '')).startswith('3.1'), href)
    shot(drv, '1-empty')

    # search
    search(drv, 'apple')
    check('search "apple": results appear', wait_until(
        lambda: attr(drv, 'search-status', 'data-state') == 'done' and row(drv, 'search-result', 'AAPL'), 15))
    r = row(drv, 'search-result', 'AAPL')
    cells = [c.text for c in r.find_elements(By.CSS_SELECTOR, 'th, td')] if r else []
    check('AAPL shows name, type, exchange and currency', cells[:5] == ['AAPL', 'Apple Inc.', 'Equity', 'NASDAQ', 'USD'], cells)
    shot(drv, '2-search')
    search(drv, '   ')
    err = wait_until(lambda: q(drv, 'search-error').is_displayed() and q(drv, 'search-error').text, 10)
    check("a query of spaces: the API's 400 shown next to the box", err and 'q is required' in err, err)
    search(drv, 'apple', provider='bloomberg')
    err = wait_until(lambda: q(drv, 'search-error').is_displayed() and 'provider' in q(drv, 'search-error').text
                     and q(drv, 'search-error').text, 10)
    check("an unknown provider: the API's 400 with the reason next to the box",
          err and 'must be yahoo, coingecko or all' in err, err)
    search(drv, 'apple')
    wait_until(lambda: attr(drv, 'search-status', 'data-state') == 'done' and row(drv, 'search-result', 'AAPU'), 15)
    check('the error is gone after a good search', not q(drv, 'search-error').is_displayed())

    # track two hits
    for sym in ('AAPL', 'AAPU'):
        r = row(drv, 'search-result', sym)
        click(drv, r.find_element(By.CSS_SELECTOR, '[data-testid="search-track"]'))
        check(f'track {sym}: the row says tracked',
              wait_until(lambda: row(drv, 'search-result', sym) and
                         row(drv, 'search-result', sym).find_elements(By.CSS_SELECTOR, '[data-testid="search-tracked"]'), 20),
              f'{q(drv, "search-status").text!r} / {q(drv, "search-error").text!r} / '
              f'{row(drv, "search-result", sym).text if row(drv, "search-result", sym) else "no row"!r}')
    check('…and the database tracks them, with the search\'s exchange and currency',
          sql("SELECT string_agg(a.symbol || ':' || a.exchange || ':' || a.currency, ',' ORDER BY a.symbol) "
              "FROM assets a JOIN tracked_assets t ON t.asset_id = a.id") == 'AAPL:NASDAQ:USD,AAPU:NASDAQ:USD')
    check('the status leaves idle', wait_until(lambda: attr(drv, 'status', 'data-status') == 'running', 20),
          attr(drv, 'status', 'data-status'))
    check('the getting-started card steps aside', wait_until(lambda: not q(drv, 'start-empty').is_displayed(), 10))
    shot(drv, '3-tracked')

    # a portfolio
    q(drv, 'pf-name').send_keys('My first portfolio')
    click(drv, q(drv, 'pf-create-button'))
    check('create a portfolio', wait_until(lambda: 'created' in q(drv, 'pf-create-feedback').text
                                           and q(drv, 'pf-detail').is_displayed(), 10), q(drv, 'pf-create-feedback').text)
    pid = sql("SELECT id FROM portfolios WHERE name = 'My first portfolio'")
    check('…stored, in USD', sql(f'SELECT currency FROM portfolios WHERE id = {pid or 0}') == 'USD')
    csv = 'symbol,quantity,average_buy_price\nAAPL,10,150.5\nNOPE,3,10\nAAPU,4,25\n'
    box = q(drv, 'csv-text')
    box.clear()
    box.send_keys(csv)
    click(drv, q(drv, 'csv-preview'))
    lines = wait_until(lambda: len(qa(drv, 'csv-line')) == 3 and qa(drv, 'csv-line'), 10) or []
    states = [ln.get_attribute('data-status') for ln in lines]
    check('preview: three lines, one bad', states == ['add', 'error', 'add'], states)
    bad = [ln for ln in lines if ln.get_attribute('data-status') == 'error']
    check('…the bad line says why', bad and 'NOPE is not a known asset' in bad[0].text, bad[0].text if bad else '')
    check('…and nothing is written yet', sql(f'SELECT count(*) FROM portfolio_positions WHERE portfolio_id = {pid}') == '0')
    shot(drv, '4-preview')
    check('the import button says what it will do', 'Import 2 valid lines, skip 1' in q(drv, 'csv-commit').text,
          q(drv, 'csv-commit').text)
    click(drv, q(drv, 'csv-commit'))
    check('confirm: two positions imported', wait_until(lambda: 'Imported 2' in q(drv, 'csv-feedback').text, 10),
          q(drv, 'csv-feedback').text)
    check('…in the database', sql(f'SELECT count(*) FROM portfolio_positions WHERE portfolio_id = {pid}') == '2')
    check('…and shown', wait_until(lambda: len(qa(drv, 'position-row')) == 2, 10))

    # recalculate
    click(drv, q(drv, 'pf-recalc'))
    valued = wait_until(lambda: attr(drv, 'pf-value-box', 'data-value') and attr(drv, 'pf-value-box', 'data-stale') == 'false',
                        60, 0.25)
    elapsed = time.time() - t0
    check('recalculate: the portfolio is valued', valued, f'{attr(drv, "pf-value-box", "data-value")} stale={attr(drv, "pf-value-box", "data-stale")}')
    want = sql(f"SELECT round(sum(pp.quantity * (SELECT price FROM asset_prices ap WHERE ap.asset_id = pp.asset_id "
               f"ORDER BY fetched_at DESC LIMIT 1)), 2) FROM portfolio_positions pp WHERE portfolio_id = {pid}")
    page = attr(drv, 'pf-value-box', 'data-value')
    shown = number(q(drv, 'pf-value').text)
    check(f'the value equals 10 × AAPL + 4 × AAPU from the database ({want})',
          want and page and abs(float(page) - float(want)) < 0.006 and shown is not None and abs(shown - float(want)) < 0.006,
          f'database {want}, API {page}, page {q(drv, "pf-value").text!r}')
    inv = number(q(drv, 'pf-invested').text)
    check('invested is 10 × 150.5 + 4 × 25 = 1605', inv == 1605.0, q(drv, 'pf-invested').text)
    check('return = value − invested, shown', q(drv, 'pf-return').text.strip() != '—', q(drv, 'pf-return').text)
    shot(drv, '5-valued')
    print(f'# bench first_minutes_to_valued_portfolio {elapsed:.1f} s', flush=True)
    print(f'# first minutes: an empty database to a valued portfolio took {elapsed:.1f} s (scripted)', flush=True)

    # untrack from the asset row
    ok_rows = wait_until(lambda: row(drv, 'asset-row', 'AAPU'), 20)
    check('the assets panel lists AAPU', ok_rows)
    if ok_rows:
        click(drv, row(drv, 'asset-row', 'AAPU').find_element(By.CSS_SELECTOR, '[data-testid="asset-untrack"]'))
        check('untrack asks first', wait_until(lambda: row(drv, 'asset-row', 'AAPU').find_element(
            By.CSS_SELECTOR, '[data-testid="asset-untrack"]').get_attribute('data-state') == 'confirm', 5))
        click(drv, row(drv, 'asset-row', 'AAPU').find_element(By.CSS_SELECTOR, '[data-testid="asset-untrack"]'))
        check('untrack: the row goes', wait_until(lambda: row(drv, 'asset-row', 'AAPU') is None, 15))
        check('…the database no longer tracks it, the asset kept',
              sql("SELECT count(*) FROM tracked_assets t JOIN assets a ON a.id = t.asset_id WHERE a.symbol = 'AAPU'") == '0'
              and sql("SELECT count(*) FROM assets WHERE symbol = 'AAPU'") == '1')
        shot(drv, '6-untracked')
    return elapsed


def test_screens(drv):
    for name, (w, hgt, mobile, dark) in {'7-desktop-dark': (1366, 900, False, True),
                                          '8-phone-light': (390, 844, True, False),
                                          '9-phone-dark': (390, 844, True, True)}.items():
        set_viewport(drv, w, hgt, mobile, dark)
        drv.get('about:blank')   # a fresh page at this width, as a phone would load it
        drv.get(f'{API}/')
        wait_until(lambda: q(drv, 'pf-detail').is_displayed() and qa(drv, 'position-row'), 20)
        drv.execute_script("document.getElementById('holdings').scrollIntoView()")
        time.sleep(0.3)
        lum = luminance(body_bg(drv))
        check(f'{name}: {"dark" if dark else "light"} colours', lum < 0.3 if dark else lum > 0.7, f'luminance {lum:.2f}')
        # the layout width must be the screen's: a page wider than the
        # screen makes a phone zoom out (innerWidth grows with it)
        over = drv.execute_script('return Math.max(document.documentElement.scrollWidth, window.innerWidth) - arguments[0]', w)
        wide = drv.execute_script(
            "const clipped = (e) => { for (let p = e.parentElement; p && p !== document.body; p = p.parentElement)"
            " { if (getComputedStyle(p).overflowX !== 'visible') return true; } return false; };"
            "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > arguments[0] + 1"
            " && !clipped(e)).slice(0, 6).map(e => e.tagName + '#' + e.id + '.' + e.className + ' '"
            " + Math.round(e.getBoundingClientRect().left) + '-' + Math.round(e.getBoundingClientRect().right))", w)
        sizes = drv.execute_script(
            "return [document.documentElement.scrollWidth, innerWidth, ...[...document.querySelectorAll('main > section, header')]"
            ".map(e => e.id + ':' + Math.round(e.scrollWidth) + '/' + Math.round(e.getBoundingClientRect().width)),"
            " ...[...document.body.children].map(e => e.tagName + '.' + e.className + ':' + Math.round(e.getBoundingClientRect().right)),"
            " ...[...document.querySelectorAll('footer *, .foot *')].map(e => e.tagName + ':' + Math.round(e.getBoundingClientRect().right))]")
        check(f'{name}: the page is as wide as the screen ({over} px over)', over <= 1, f'{wide} {sizes}')
        shot(drv, name)
    set_viewport(drv, 1366, 900, False, False)


def test_demo(drv):
    if not API_DEMO:
        not_ok('the demo button', 'API_URL_DEMO is not set')
        return
    drv.get(f'{API_DEMO}/')
    check('another empty database: the demo button is there',
          wait_until(lambda: q(drv, 'demo-load').is_displayed(), 20))
    click(drv, q(drv, 'demo-load'))
    fb = wait_until(lambda: 'loaded' in q(drv, 'demo-feedback').text and q(drv, 'demo-feedback').text, 20)
    check('load demo data: it says so', fb, q(drv, 'demo-feedback').text)
    n = sql('SELECT count(*) FROM tracked_assets', DB_DEMO)
    check(f'…and the tracked count on the page is the database\'s ({n})',
          wait_until(lambda: q(drv, 'tracked-assets').text.replace(',', '') == n, 20), q(drv, 'tracked-assets').text)
    shot(drv, '10-demo')


def main():
    if not API:
        print('not ok - API_URL is not set')
        return 1
    drv, profile = make_driver()
    console = Console(drv)
    try:
        set_viewport(drv, 1366, 900, False, False)
        for step in (test_first_minutes, test_screens, test_demo):
            try:
                step(drv)
            except Exception:
                not_ok(f'{step.__name__} ran to the end', '\n'.join(traceback.format_exc().splitlines()[-6:]))
        # the only errors: the two 400s the test asked for (Chromium logs
        # every answer >= 400 of a fetch as a console error)
        console.check('no console errors besides the two 400s asked for', allowed=(
            '/api/fetcher/search?q= - Failed to load resource: the server responded with a status of 400',
            '/api/fetcher/search?q=apple&provider=bloomberg - Failed to load resource: the server responded with a status of 400'))
    finally:
        drv.quit()
        import shutil
        shutil.rmtree(profile, ignore_errors=True)
    print(f'# onboarding: {passed} passed, {failed} failed', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
