// app.js — entry point of the fetcherd dashboard. Live updates come through
// Server-Sent Events (live.js); polling is the fallback: every 15 s (2 s
// while a cycle runs) without the stream, every 60 s (15 s while a cycle
// runs) with it. Clocks tick every second. Deep links: #logs?level=ERROR,
// #assets?q=AAPL, #cycles/123.

import { ApiError, apiGet } from './api.js';
import { $, refreshRelativeTimes, setText } from './dom.js';
import { fmtClock } from './format.js';
import { initActions, pokeRetries } from './actions.js';
import { applyAssetsHash, assetsChanged, initAssets, renderAssets, setAssetsInterval } from './assets.js';
import { initDetail } from './detail.js';
import { applyCyclesHash, renderCycles, initCycles, cycleEventSeen } from './cycles.js';
import { initLive, isLive, liveDebug, liveState } from './live.js';
import { applyLogsHash, initLogs, loadLogs, logsFollowLive } from './logs.js';
import { renderPortfolios, renderQueue, renderStats, renderUpdates, showPanelError } from './panels.js';
import { initStart, renderStart } from './start.js';
import { initHoldings, renderHoldings } from './holdings.js';
import {
  askForToken, initStatus, lastStatus, liveCycleFinished, liveCycleStarted, livePaused, liveProgress,
  observeForTrigger, renderStatus, renderStatusUnknown, setLiveProbe, statusBusy, tickStatus,
} from './status.js';

const POLL = { slow: 15000, fast: 2000, liveSlow: 60000, liveFast: 15000 };
const PROBE_MS = 5 * 60 * 1000;  // re-ask for optional endpoints that were 404

let timer = null;
let running = false;
let again = false;
let lastOk = null;
let lastStats = null;
let refreshCount = 0;
let pollCount = 0;     // refreshes started by the timer (not by events or clicks)
let nextPollAt = null;

// Optional endpoints: 'unknown' → first try; 'absent' after a 404 (panel
// hidden, asked again every PROBE_MS); 'present' once they answered.
const optional = {
  cycles: { state: 'unknown', at: 0 },
  portfolios: { state: 'unknown', at: 0 },
  assets: { state: 'unknown', at: 0 },
  queue: { state: 'unknown', at: 0 },
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
    const nav = $(`#nav-${name}`);
    if (nav) nav.hidden = o.state !== 'present';
  }
}

// what: 'all' (poll, click), or a set of parts after a live event
async function refresh(what = 'all') {
  if (running) {
    again = true;
    return;
  }
  running = true;
  clearTimeout(timer);
  refreshCount++;
  const all = what === 'all';
  try {
    const [st, stats] = await Promise.allSettled([apiGet('/status'), apiGet('/statistics')]);
    if (st.status === 'fulfilled') {
      renderStatus(st.value);
      renderStart(st.value);
      setAssetsInterval(st.value.update_interval_minutes);
    } else {
      renderStatusUnknown(st.reason);
    }
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
      loadOptional('assets', '/assets', (b) => { renderAssets(b); assetsChanged(); }),
      loadOptional('queue', '/queue', renderQueue),
    ];
    // portfolios change once per cycle: no need to ask every 2 s
    if (all || refreshCount === 1 || !statusBusy() || refreshCount % 5 === 0) {
      others.push(loadOptional('portfolios', '/portfolios', (b) => { renderPortfolios(b); renderHoldings(b); }));
    }
    await Promise.allSettled(others);
    observeForTrigger(st.status === 'fulfilled' ? st.value : null, lastStats);
    pokeRetries();

    if (st.status === 'fulfilled') {
      lastOk = new Date();
      document.body.classList.remove('stale');
    } else {
      document.body.classList.add('stale');
    }
    showBanner(st.status === 'rejected' ? st.reason : null);
    if (st.status === 'rejected' && st.reason.status === 0) {
      // the banner says it once; no need for the same error in every panel
      for (const id of ['stats', 'updates', 'logs', 'cycles', 'portfolios', 'assets', 'queue']) showPanelError(id, null);
    }
    if (scrollTo) {
      const id = scrollTo;
      scrollTo = null;
      requestAnimationFrame(() => { const el = $(`#${id}`); if (el && !el.hidden) el.scrollIntoView({ block: 'start' }); });
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

function pollInterval() {
  const busy = statusBusy();
  if (isLive()) return busy ? POLL.liveFast : POLL.liveSlow;
  return busy ? POLL.fast : POLL.slow;
}

function showBanner(err) {
  const b = $('#banner');
  if (!err) {
    b.hidden = true;
    setText(b, '');
  } else {
    const since = lastOk ? ` Showing data from ${fmtClock(lastOk)}.` : '';
    const what = err.status === 0 ? `Cannot reach the fetcher API: ${err.message}.` : `The fetcher API answered ${err.status}: ${err.message}.`;
    setText(b, `${what}${since} Retrying every ${Math.round(POLL.slow / 1000)} s.`);
    b.hidden = false;
  }
  updateRefreshInfo();
}

function updateRefreshInfo() {
  const el = $('#refresh-info');
  const ms = pollInterval();
  el.dataset.pollMs = String(ms);
  if (!lastOk) {
    setText(el, 'Waiting for the API…');
    return;
  }
  const ago = Math.round((Date.now() - lastOk.getTime()) / 1000);
  setText(el, `Updated ${ago < 2 ? 'just now' : `${ago} s ago`}`);
  el.title = `Last successful refresh ${lastOk.toString()}; ` +
    `${isLive() ? 'live events, plus a check' : 'polling'} every ${Math.round(ms / 1000)} s`;
}

// ms: a one-off delay (0 = now); otherwise the next regular poll
function schedule(ms) {
  clearTimeout(timer);
  const regular = ms === undefined;
  const wait = regular ? pollInterval() : ms;
  nextPollAt = Date.now() + wait;
  timer = setTimeout(() => {
    if (regular) pollCount++;
    refresh('all');
  }, wait);
}

// Live events → the parts of the page they change, fetched once (debounced).
let eventTimer = null;
function refreshSoon(ms = 250) {
  clearTimeout(eventTimer);
  eventTimer = setTimeout(() => {
    if (running) again = true;
    else refresh('event');
  }, ms);
}

function onLiveState(s, was) {
  // slower polling while live, faster when it drops
  if (s === 'live' && was !== 'live' && lastOk) refreshSoon(0);   // catch up on what we missed
  else if (s !== 'live' && was === 'live') schedule(Math.min(POLL.slow, 3000));
  else if (s === 'live') schedule();
  updateRefreshInfo();
}

// While a cycle runs, its queue counters follow the progress events (at
// most once a second).
let queueTimer = null;
function refreshQueueSoon() {
  if (queueTimer || optional.queue.state !== 'present') return;
  queueTimer = setTimeout(() => {
    queueTimer = null;
    loadOptional('queue', '/queue', renderQueue);
  }, 1000);
}

const liveHandlers = {
  cycle_started: (d) => { liveCycleStarted(d); cycleEventSeen(d, 'running'); schedule(); refreshQueueSoon(); },
  progress: (d) => { liveProgress(d); refreshQueueSoon(); },
  assets_updated: () => { pokeRetries(); refreshSoon(400); },
  cycle_finished: (d) => { liveCycleFinished(d); cycleEventSeen(d, d.status); refreshSoon(600); },
  log: () => { if (logsFollowLive()) refreshSoon(400); },
  paused: () => { livePaused(true); refreshSoon(200); },
  resumed: () => { livePaused(false); refreshSoon(200); },
  reset: () => refreshSoon(0),
};

let scrollTo = null;

function onHash(initial) {
  const hash = location.hash;
  let target = null;
  if (applyLogsHash(hash)) {
    target = 'logs';
    if (!initial) loadLogs().catch(() => {});
  } else if (applyAssetsHash(hash)) {
    target = 'assets';
  } else if (applyCyclesHash(hash, initial)) {
    target = 'cycles';
  }
  if (!target) return;
  // "#logs?level=…" is no element id, so the browser does not scroll by
  // itself; on first load wait until the panels above have their content
  if (initial) scrollTo = target;
  else {
    const el = $(`#${target}`);
    if (el && !el.hidden) el.scrollIntoView({ block: 'start' });
    else scrollTo = target;
  }
}

function start() {
  initStatus({ onRequestRefresh: (ms) => schedule(ms) });
  setLiveProbe(isLive);
  initActions({ onAuthNeeded: askForToken, onChanged: () => refreshSoon(300) });
  initLogs();
  initCycles();
  initAssets();
  initStart({ onChanged: () => refreshSoon(300) });
  initHoldings({ onChanged: () => refreshSoon(300) });
  initDetail();
  $('#refresh-now').addEventListener('click', () => schedule(0));
  window.addEventListener('hashchange', () => onHash(false));
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && lastOk && Date.now() - lastOk.getTime() > POLL.fast) schedule(0);
  });
  onHash(true);
  setInterval(() => {
    tickStatus();
    refreshRelativeTimes();
    updateRefreshInfo();
  }, 1000);
  initLive({ handlers: liveHandlers, onState: onLiveState });
  refresh();
  // for the browser test: proves the page was not reloaded, shows how it is fed
  window.fetcherDashboard = {
    refresh: () => schedule(0),
    status: () => lastStatus(),
    live: () => ({ ...liveDebug(), pollMs: pollInterval(), pollCount, refreshCount, nextPollAt, liveState: liveState() }),
  };
}

start();
