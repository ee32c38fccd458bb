// actions.js — the write actions besides "Trigger update now": retry one
// failed asset (POST /assets/{symbol}/refresh), retry a group of them
// (POST /trigger-update {"symbols": […]}) and pause/resume the schedule.
// Each reports what happened in a role="status" element next to its button
// and, for retries, waits for the new price_update_log rows to say whether
// the retry worked.

import { apiGet, apiPost, getToken, setToken } from './api.js';
import { h, setText } from './dom.js';
import { fmtInt, fmtPrice } from './format.js';

let onAuth = () => {};
let onDone = () => {};
const waiters = new Set();

// onAuthNeeded(message): show the token form; onChanged(): refresh the page.
export function initActions({ onAuthNeeded, onChanged }) {
  onAuth = onAuthNeeded;
  onDone = onChanged;
}

// A write was refused or failed: a sentence a person can act on.
export function writeError(e, what) {
  if (e.status === 401) {
    const had = !!getToken();
    if (had) setToken('');
    const msg = had
      ? `The saved API token was rejected (401): enter a valid token to ${what}.`
      : `This API requires a token to ${what} (401). Enter it below.`;
    onAuth(msg);
    return msg;
  }
  if (e.status === 403) {
    return `Refused (403): without a token this API accepts changes only from its own machine.${
      e.message && e.message !== 'HTTP 403' ? ` API said: ${e.message}` : ''}`;
  }
  if (e.status === 404) return `Not found (404): ${e.message}`;
  if (e.status === 0) return `Could not send the request: ${e.message}.`;
  return `Failed (${e.status}): ${e.message}`;
}

// Called on every live assets_updated event and every refresh: retries
// waiting for their result look again.
export function pokeRetries() {
  for (const w of waiters) w();
}

async function newestUpdateId() {
  const b = await apiGet('/recent-updates?limit=1');
  const u = Array.isArray(b.updates) && b.updates[0];
  return u && typeof u.id === 'number' ? u.id : 0;
}

function describeResults(symbols, rows) {
  const by = new Map();
  for (const r of rows) if (!by.has(r.symbol)) by.set(r.symbol, r);  // newest first
  if (symbols.length === 1) {
    const r = by.get(symbols[0]);
    return r.success
      ? { ok: true, text: `✓ ${symbols[0]} refreshed: ${fmtPrice(r.price, r.currency)}` }
      : { ok: false, text: `✗ ${symbols[0]} failed again: ${r.error || 'no error message'}` };
  }
  let good = 0;
  for (const s of symbols) if (by.get(s) && by.get(s).success) good++;
  return {
    ok: good === symbols.length,
    text: `${good === symbols.length ? '✓' : '✗'} Retried ${fmtInt(symbols.length)} assets: ` +
      `${fmtInt(good)} ok, ${fmtInt(symbols.length - good)} failed again.`,
  };
}

// Retry state by symbol list, so a table redrawn by a refresh (the assets
// table is, as soon as the retry's result lands) shows it again.
const retries = new Map();   // key → {state, text, busy}

function show(key) {
  const st = retries.get(key);
  for (const wrap of document.querySelectorAll('.action[data-key]')) {
    if (wrap.dataset.key !== key) continue;
    const btn = wrap.querySelector('button');
    const out = wrap.querySelector('.action-out');
    btn.disabled = !!(st && st.busy);
    setText(btn, st && st.busy ? 'Retrying…' : wrap.dataset.label);
    out.dataset.state = st ? st.state : '';
    setText(out, st ? st.text : '');
  }
}

function setRetry(key, state, text, busy) {
  retries.set(key, { state, text, busy });
  show(key);
}

// Retries symbols (one: the per-asset refresh; several: trigger-update with
// the list) and reports next to every button for the same symbols.
export async function retry(symbols) {
  if (!symbols.length) return;
  const key = symbols.join(' ');
  if (retries.get(key)?.busy) return;
  setRetry(key, 'pending', symbols.length === 1 ? `Asking for a new price of ${symbols[0]}…` : `Asking for ${symbols.length} new prices…`, true);
  let baseline = 0;
  try {
    baseline = await newestUpdateId();
    if (symbols.length === 1) {
      await apiPost(`/assets/${encodeURIComponent(symbols[0])}/refresh`);
    } else {
      await apiPost('/trigger-update', { json: { symbols } });
    }
  } catch (e) {
    setRetry(key, 'error', writeError(e, 'retry assets'), false);
    return;
  }
  setRetry(key, 'started', 'Requested — waiting for the daemon…', true);
  const want = new Set(symbols);
  const limit = Math.min(500, Math.max(50, symbols.length * 3));
  const started = Date.now();
  let busy = false;
  let timer = null;
  const finish = (state, text) => {
    waiters.delete(look);
    clearInterval(timer);
    setRetry(key, state, text, false);
    onDone();
  };
  async function look() {
    if (busy) return;
    busy = true;
    try {
      const q = symbols.length === 1 ? `symbol=${encodeURIComponent(symbols[0])}&limit=5` : `limit=${limit}`;
      const b = await apiGet(`/recent-updates?${q}`);
      const rows = (Array.isArray(b.updates) ? b.updates : []).filter((u) => u.id > baseline && want.has(u.symbol));
      const seen = new Set(rows.map((u) => u.symbol));
      if (seen.size === want.size) {
        const r = describeResults(symbols, rows);
        finish(r.ok ? 'finished' : 'failed', r.text);
      } else if (Date.now() - started > 60000) {
        finish('error', `No new result after a minute (${seen.size} of ${want.size} assets answered) — see the logs.`);
      }
    } catch {
      /* the next poke or tick tries again */
    } finally {
      busy = false;
    }
  }
  waiters.add(look);
  timer = setInterval(look, 2000);   // in case no live event arrives
  look();
}

// A small "retry" button with its status line, for a table cell.
export function retryButton(symbols, { label = 'Retry now', testid = 'retry-button', title } = {}) {
  const key = symbols.join(' ');
  const out = h('span', { class: 'action-out', role: 'status', dataset: { testid: `${testid}-result` } });
  const btn = h('button', {
    type: 'button', class: 'btn btn-small', dataset: { testid },
    title: title || (symbols.length === 1 ? `Fetch ${symbols[0]} again now` : `Fetch these ${symbols.length} assets again now`),
  }, label);
  btn.addEventListener('click', () => retry(symbols));
  const wrap = h('span', { class: 'action', dataset: { key, label } }, btn, out);
  const st = retries.get(key);
  if (st) {
    btn.disabled = !!st.busy;
    if (st.busy) btn.textContent = 'Retrying…';
    out.dataset.state = st.state;
    out.textContent = st.text;
  }
  return wrap;
}

// Pause (true) or resume (false) the schedule; returns the API's answer.
export async function setPaused(pause) {
  return apiPost(pause ? '/pause' : '/resume');
}

export function formatCount(n, one, many) {
  return `${fmtInt(n)} ${n === 1 ? one : many}`;
}
