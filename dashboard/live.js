// live.js — the Server-Sent Events stream (/api/fetcher/events): pushes
// cycle starts, progress, finishes, failed updates and pause/resume the
// moment they happen. EventSource reconnects by itself (sending
// Last-Event-ID); when the endpoint is missing or refuses us, the page falls
// back to polling and asks again later.

import { $, setText } from './dom.js';
import { fmtClock } from './format.js';

const URL_EVENTS = '/api/fetcher/events';
const TYPES = ['cycle_started', 'progress', 'assets_updated', 'cycle_finished', 'log', 'paused', 'resumed', 'reset'];
const RETRY_CLOSED_MS = 30000;   // after a refusal (404, 503 when full, …)

let es = null;
let state = 'off';       // off | connecting | live | reconnecting | unavailable
let handlers = {};
let onState = () => {};
let closedTimer = null;
let lastEventAt = null;
let everLive = false;
const recent = [];       // the last 50 events, for the browser test and debugging
let received = 0;

export function liveState() {
  return state;
}

export function isLive() {
  return state === 'live';
}

export function liveDebug() {
  return {
    state, readyState: es ? es.readyState : null, received,
    events: recent.slice(), lastEventAt: lastEventAt ? lastEventAt.toISOString() : null,
  };
}

export function initLive(opts) {
  handlers = opts.handlers || {};
  onState = opts.onState || (() => {});
  if (!('EventSource' in window)) {
    setState('unavailable', 'This browser has no EventSource: polling every 15 s.');
    return;
  }
  connect();
  // Leaving the page: close the stream now, or it holds one of the
  // browser's few connections to this host until the server notices.
  window.addEventListener('pagehide', () => {
    clearTimeout(closedTimer);
    if (es) es.close();
    es = null;
    setState('off');
  });
  window.addEventListener('pageshow', (e) => { if (e.persisted) reconnectNow(); });
  // A tab in the background for a while gives its stream back (browsers
  // allow only ~6 connections per host over HTTP/1.1: many open tabs would
  // starve each other); it polls meanwhile and reconnects when shown.
  let hiddenTimer = null;
  document.addEventListener('visibilitychange', () => {
    clearTimeout(hiddenTimer);
    if (document.hidden) {
      hiddenTimer = setTimeout(() => {
        clearTimeout(closedTimer);
        if (es) es.close();
        es = null;
        setState('off', 'In the background: live stream closed, polling instead.');
      }, 60000);
    } else if (!es && state !== 'unavailable') {
      reconnectNow();
    }
  });
  // a laptop waking up: the socket may be dead without an error yet
  window.addEventListener('online', () => { if (state !== 'live') reconnectNow(); });
}

export function reconnectNow() {
  clearTimeout(closedTimer);
  if (es) es.close();
  es = null;
  connect();
}

function connect() {
  // EventSource cannot send an Authorization header; the stream is a read
  // endpoint like the others, so none is needed.
  setState(everLive ? 'reconnecting' : 'connecting');
  let src;
  try {
    src = new EventSource(URL_EVENTS);
  } catch {
    setState('unavailable', 'Live updates could not start: polling every 15 s.');
    return;
  }
  es = src;
  src.addEventListener('open', () => {
    if (es !== src) return;
    everLive = true;
    setState('live');
  });
  src.addEventListener('error', () => {
    if (es !== src) return;
    if (src.readyState === EventSource.CLOSED) {
      // refused (404, 503, wrong type): EventSource gives up; so do we, for a while
      es = null;
      setState('unavailable', 'No live stream from the API: polling instead.');
      clearTimeout(closedTimer);
      closedTimer = setTimeout(connect, RETRY_CLOSED_MS);
    } else {
      setState('reconnecting');   // EventSource retries by itself (retry: from the server)
    }
  });
  for (const t of TYPES) {
    src.addEventListener(t, (ev) => {
      if (es !== src) return;
      let data = null;
      try { data = JSON.parse(ev.data); } catch { data = null; }
      if (!data || typeof data !== 'object') return;
      received++;
      lastEventAt = new Date();
      recent.push({ id: ev.lastEventId, type: t, data, at: lastEventAt.toISOString() });
      if (recent.length > 50) recent.shift();
      if (state !== 'live') setState('live');
      updateIndicator();
      const fn = handlers[t];
      if (fn) {
        try { fn(data); } catch (e) { console.warn('live: handler for', t, 'failed', e); }
      }
    });
  }
}

const WORDS = {
  off: 'Polling', connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', unavailable: 'Polling',
};

let note = '';

function setState(s, why) {
  const was = state;
  state = s;
  note = why || '';
  updateIndicator();
  if (was !== s) onState(s, was);
}

function updateIndicator() {
  const el = $('#live');
  if (!el) return;
  el.dataset.state = state;
  setText($('#live-text'), WORDS[state] || state);
  let title;
  if (state === 'live') {
    title = `Live: the API pushes changes as they happen${lastEventAt ? ` (last event ${fmtClock(lastEventAt)})` : ''}.`;
  } else if (state === 'reconnecting') {
    title = 'The live stream dropped; reconnecting (polling meanwhile).';
  } else {
    title = note || 'Polling the API.';
  }
  el.title = title;
  el.setAttribute('aria-label', `Updates: ${WORDS[state] || state}. ${title}`);
}
