// app.js — entry point of the fetcherd dashboard: loads every panel, keeps
// them fresh (every 15 s, every 2 s while a cycle runs), ticks the clocks
// every second and handles the #logs?level=X deep link.

import { ApiError, apiGet } from './api.js';
import { $, refreshRelativeTimes, setText } from './dom.js';
import { fmtClock } from './format.js';
import { renderCycles, initCycles } from './cycles.js';
import { applyLogsHash, initLogs, loadLogs, logsFollowLive } from './logs.js';
import { renderPortfolios, renderStats, renderUpdates, showPanelError } from './panels.js';
import {
  initStatus, lastStatus, observeForTrigger, renderStatus, renderStatusUnknown, statusBusy, tickStatus,
} from './status.js';

const SLOW_MS = 15000;
const FAST_MS = 2000;
const PROBE_MS = 5 * 60 * 1000;  // re-ask for optional endpoints that were 404

let timer = null;
let running = false;
let again = false;
let lastOk = null;
let lastStats = null;
let refreshCount = 0;

// Optional endpoints: 'unknown' → first try; 'absent' after a 404 (panel
// hidden, asked again every PROBE_MS); 'present' once they answered.
const optional = {
  cycles: { state: 'unknown', at: 0 },
  portfolios: { state: 'unknown', at: 0 },
};

function wantOptional(name) {
  const o = optional[name];
  if (o.state === 'absent') return Date.now() - o.at > PROBE_MS;
  return true;
}

async function loadOptional(name, path, render) {
  if (!wantOptional(name)) return;
  const o = optional[name];
  try {
    const body = await apiGet(path);
    o.state = 'present';
    $(`#${name}`).hidden = false; // shown before drawing, so the chart can measure its width
    render(body);
    showPanelError(name, null);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405 || e.status === 501)) {
      o.state = 'absent';
      o.at = Date.now();
    } else {
      showPanelError(name, e);
    }
  } finally {
    $(`#${name}`).hidden = o.state !== 'present';
    $(`#nav-${name}`).hidden = o.state !== 'present';
  }
}

async function refresh() {
  if (running) {
    again = true;
    return;
  }
  running = true;
  clearTimeout(timer);
  refreshCount++;
  try {
    const [st, stats] = await Promise.allSettled([apiGet('/status'), apiGet('/statistics')]);
    if (st.status === 'fulfilled') renderStatus(st.value);
    else renderStatusUnknown(st.reason);
    if (stats.status === 'fulfilled') {
      lastStats = stats.value;
      renderStats(stats.value);
      showPanelError('stats', null);
    } else {
      showPanelError('stats', stats.reason);
    }
    const others = [
      apiGet('/recent-updates?limit=50').then((b) => { renderUpdates(b); showPanelError('updates', null); },
        (e) => { showPanelError('updates', e); throw e; }),
      logsFollowLive() || refreshCount === 1 ? loadLogs() : Promise.resolve(),
      loadOptional('cycles', '/cycles?limit=100', renderCycles),
    ];
    // portfolios change once per cycle: no need to ask every 2 s
    if (refreshCount === 1 || !statusBusy() || refreshCount % 5 === 0) {
      others.push(loadOptional('portfolios', '/portfolios', renderPortfolios));
    }
    await Promise.allSettled(others);
    observeForTrigger(st.status === 'fulfilled' ? st.value : null, lastStats);

    if (st.status === 'fulfilled') {
      lastOk = new Date();
      document.body.classList.remove('stale');
    } else {
      document.body.classList.add('stale');
    }
    showBanner(st.status === 'rejected' ? st.reason : null);
    if (st.status === 'rejected' && st.reason.status === 0) {
      // the banner says it once; no need for the same error in every panel
      for (const id of ['stats', 'updates', 'logs', 'cycles', 'portfolios']) showPanelError(id, null);
    }
    if (scrollToLogs) {
      scrollToLogs = false;
      requestAnimationFrame(() => $('#logs').scrollIntoView({ block: 'start' }));
    }
  } finally {
    running = false;
    if (again) {
      again = false;
      schedule(0);
    } else {
      schedule();
    }
  }
}

function showBanner(err) {
  const b = $('#banner');
  if (!err) {
    b.hidden = true;
    setText(b, '');
  } else {
    const since = lastOk ? ` Showing data from ${fmtClock(lastOk)}.` : '';
    const what = err.status === 0 ? `Cannot reach the fetcher API: ${err.message}.` : `The fetcher API answered ${err.status}: ${err.message}.`;
    setText(b, `${what}${since} Retrying every ${Math.round(SLOW_MS / 1000)} s.`);
    b.hidden = false;
  }
  updateRefreshInfo();
}

function updateRefreshInfo() {
  const el = $('#refresh-info');
  if (!lastOk) {
    setText(el, 'Waiting for the API…');
    return;
  }
  const ago = Math.round((Date.now() - lastOk.getTime()) / 1000);
  const mode = statusBusy() ? 'live (2 s)' : 'every 15 s';
  setText(el, `Updated ${ago < 2 ? 'just now' : `${ago} s ago`} · ${mode}`);
  el.title = `Last successful refresh ${lastOk.toString()}`;
}

function schedule(ms) {
  clearTimeout(timer);
  const wait = ms ?? (statusBusy() ? FAST_MS : SLOW_MS);
  timer = setTimeout(refresh, wait);
}

let scrollToLogs = false;

function onHash(initial) {
  if (applyLogsHash(location.hash)) {
    // "#logs?level=…" is no element id, so the browser does not scroll by
    // itself; on first load wait until the panels above have their content
    if (initial) scrollToLogs = true;
    else {
      loadLogs().catch(() => {});
      $('#logs').scrollIntoView({ block: 'start' });
    }
  }
}

function start() {
  initStatus({ onRequestRefresh: (ms) => schedule(ms) });
  initLogs();
  initCycles();
  $('#refresh-now').addEventListener('click', () => schedule(0));
  window.addEventListener('hashchange', () => onHash(false));
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && lastOk && Date.now() - lastOk.getTime() > FAST_MS) schedule(0);
  });
  onHash(true);
  setInterval(() => {
    tickStatus();
    refreshRelativeTimes();
    updateRefreshInfo();
  }, 1000);
  refresh();
  // for the browser test: proves the page was not reloaded
  window.fetcherDashboard = { refresh: () => schedule(0), status: () => lastStatus() };
}

start();
