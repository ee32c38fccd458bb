#!/usr/bin/env python3
"""The dashboard's alerts panel in headless Chromium, against a fetcher-api
whose fetcher_alerts already holds history (tests/integration/
alerts_webhook.sh calls it at its end): the panel is shown, has one row per
alert GET /api/fetcher/alerts answers, firing rows before resolved ones,
each with its title, subject and state; its summary counts the firing
ones; no console error. Screenshot: build/screenshots/desktop-alerts.png.

Usage: alerts_panel_test.py API_URL   (prints "ok - …" / "not ok - …")
"""
import json
import os
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHOTS = os.environ.get('SCREENSHOT_DIR') or os.path.join(ROOT, 'build', 'screenshots')
TITLES = {'daemon_stopped': 'Daemon stopped', 'prices_stale': 'Prices stale',
          'provider_offline': 'Provider offline', 'provider_blocked': 'Provider blocked',
          'cycles_failing': 'Cycles failing'}
failed = 0


def check(desc, cond, detail=''):
    global failed
    if cond:
        print(f'ok - {desc}')
    else:
        failed += 1
        print(f'not ok - {desc}')
        if detail:
            print(f'#   {detail}')


def wait_until(fn, timeout=20.0):
    end = time.time() + timeout
    while True:
        try:
            val = fn()
        except WebDriverException:
            val = None
        if val or time.time() >= end:
            return val
        time.sleep(0.2)


def main():
    base = sys.argv[1]
    with urllib.request.urlopen(base + '/api/fetcher/alerts?limit=50', timeout=10) as r:
        body = json.load(r)
    alerts = body['alerts']
    profile = tempfile.mkdtemp(prefix='fetcherd-chromium-')
    opts = Options()
    opts.binary_location = '/usr/bin/chromium'
    for a in ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
              '--disable-background-networking', '--disable-component-update',
              '--disable-sync', f'--user-data-dir={profile}', '--window-size=1366,900']:
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    drv = webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=opts)
    try:
        drv.set_page_load_timeout(30)
        drv.get(base + '/')
        panel = wait_until(lambda: (lambda p: p if p.is_displayed() else None)(
            drv.find_element(By.CSS_SELECTOR, '[data-testid="alerts-panel"]')))
        check('alerts panel shown', panel is not None)
        rows = wait_until(lambda: drv.find_elements(By.CSS_SELECTOR, '[data-testid="alert-row"]')
                          if len(drv.find_elements(By.CSS_SELECTOR, '[data-testid="alert-row"]')) == len(alerts)
                          else None) or []
        check(f'one row per alert the API lists ({len(alerts)})', len(rows) == len(alerts) and len(alerts) > 0,
              f'{len(rows)} rows')
        states = [r.get_attribute('data-status') for r in rows]
        check('firing rows first', states == sorted(states, key=lambda s: s != 'firing'), str(states))
        firing = [a for a in alerts if a['status'] == 'firing']
        want = [*firing, *[a for a in alerts if a['status'] != 'firing']]
        texts_ok = all(TITLES[a['alert']] in r.text and (a['subject'] in r.text) and a['status'] in r.text
                       for a, r in zip(want, rows))
        check('each row: title, subject, state, in the API\'s order', texts_ok,
              '; '.join(r.text.replace('\n', ' ')[:80] for r in rows[:3]))
        summary = drv.find_element(By.CSS_SELECTOR, '[data-testid="alerts-summary"]').text
        check(f'summary counts the firing ones ({body["firing"]})',
              summary == (f'{body["firing"]} firing' if body['firing'] else 'none firing'), summary)
        os.makedirs(SHOTS, exist_ok=True)
        drv.execute_script('arguments[0].scrollIntoView({block: "start"})', panel)
        drv.save_screenshot(os.path.join(SHOTS, 'desktop-alerts.png'))
        severe = [e for e in drv.get_log('browser') if e.get('level') == 'SEVERE']
        check('no console error', not severe, str(severe[:2]))
    finally:
        drv.quit()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
