// start.js — a new user's first steps: the "Get started" card shown while
// nothing is tracked (add an asset, import a portfolio, or load the demo
// data), the symbol search that asks the providers' own search through
// GET /api/fetcher/search and tracks the chosen hit (POST /assets), and the
// "Untrack" button of an asset row (DELETE /assets/{symbol}). Every write
// goes through api.js, so it carries the JSON content type and the token
// the API's write protection asks for; a refusal is shown next to what was
// clicked, in the API's own words.

import { ApiError, apiDelete, apiGet, apiPost } from './api.js';
import { writeError } from './actions.js';
import { $, clear, h, setText } from './dom.js';
import { fmtInt } from './format.js';

let onChanged = () => {};
let lastHits = [];

export function initStart({ onChanged: changed }) {
  onChanged = changed;
  $('#search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    search();
  });
  $('#demo-load').addEventListener('click', loadDemo);
}

// From every /status answer: the card is for an empty install only.
export function renderStart(status) {
  const empty = status && status.tracked_assets_count === 0;
  $('#start-empty').hidden = !empty;
  $('#start').dataset.empty = String(!!empty);
  setText($('#start-h'), empty ? 'Get started' : 'Add assets');
}

function say(el, state, text) {
  el.dataset.state = state;
  setText(el, text);
}

// The API's 400 names what was wrong; show that sentence as it is.
function reason(e, what) {
  if (e instanceof ApiError && e.status === 400) return e.message;
  if (e instanceof ApiError && e.status === 502 && e.body && Array.isArray(e.body.errors)) {
    return `No provider answered: ${e.body.errors.map((x) => x.error).join('; ')}`;
  }
  return writeError(e, what);
}

async function search() {
  const q = $('#search-input').value.trim();
  const provider = $('#search-provider').value;
  const status = $('#search-status');
  const err = $('#search-error');
  say(err, 'idle', '');
  err.hidden = true;
  say(status, 'busy', `Searching for “${q}”…`);
  // the last answer's rows go: a Track pressed on them now would race this search
  lastHits = [];
  drawHits();
  try {
    const qs = `q=${encodeURIComponent(q)}${provider ? `&provider=${encodeURIComponent(provider)}` : ''}`;
    const body = await apiGet(`/search?${qs}`);
    lastHits = Array.isArray(body.results) ? body.results : [];
    drawHits();
    const notes = (body.errors || []).map((x) => x.error);
    say(status, 'done', `${fmtInt(lastHits.length)} result${lastHits.length === 1 ? '' : 's'} for “${body.query}”` +
      (body.skipped ? ` (${fmtInt(body.skipped)} not trackable left out: options, currencies…)` : '') +
      (notes.length ? `. Not answered: ${notes.join('; ')}` : ''));
  } catch (e) {
    say(status, 'idle', '');
    say(err, 'error', reason(e, 'search'));
    err.hidden = false;
  }
}

function drawHits() {
  const tbody = $('#search-body');
  clear(tbody);
  $('#search-results').hidden = lastHits.length === 0;
  for (const hit of lastHits) {
    let action;
    if (hit.tracked) {
      action = h('span', { class: 'badge badge-ok', dataset: { testid: 'search-tracked' } }, '✓ Tracked');
    } else if (hit.conflict) {
      action = h('span', { class: 'muted', title: hit.conflict }, 'Symbol in use');
    } else {
      action = h('button', {
        type: 'button', class: 'btn btn-small', dataset: { testid: 'search-track' },
        'aria-label': `Track ${hit.symbol}`, onclick: (ev) => track(hit, ev.currentTarget),
      }, 'Track');
    }
    tbody.append(h('tr', { dataset: { testid: 'search-result', symbol: hit.symbol } },
      h('th', { scope: 'row', class: 'sym' }, String(hit.symbol)),
      h('td', null, String(hit.name ?? '')),
      h('td', null, String(hit.type_display || hit.type || '')),
      h('td', null, hit.exchange ? String(hit.exchange) : h('span', { class: 'muted' }, '—')),
      h('td', null, hit.currency ? String(hit.currency) : h('span', { class: 'muted', title: 'The provider did not say; USD is assumed' }, '?')),
      h('td', { class: 'act' }, action)));
  }
}

async function track(hit, btn) {
  const status = $('#search-status');
  const err = $('#search-error');
  btn.disabled = true;
  err.hidden = true;
  const body = {
    symbol: hit.symbol, type: hit.type, name: hit.name, provider: hit.provider,
    provider_symbol: hit.provider_symbol,
  };
  if (hit.currency) body.currency = hit.currency;
  if (hit.exchange) body.exchange = hit.exchange;
  try {
    await apiPost('/assets', { json: body });
    hit.tracked = true;
    drawHits();
    say(status, 'done', `✓ ${hit.symbol} is tracked: its first price comes with the next cycle (“Trigger update now” starts one).`);
    onChanged();
  } catch (e) {
    btn.disabled = false;
    say(err, 'error', `${hit.symbol}: ${reason(e, 'track an asset')}`);
    err.hidden = false;
  }
}

async function loadDemo() {
  const btn = $('#demo-load');
  const fb = $('#demo-feedback');
  btn.disabled = true;
  say(fb, 'busy', 'Loading the demo data…');
  try {
    const b = await apiPost('/demo');
    say(fb, 'done', `✓ Demo data loaded: ${fmtInt(b.assets)} assets, ${fmtInt(b.portfolios)} portfolios; a cycle was started.`);
    onChanged();
  } catch (e) {
    say(fb, 'error', reason(e, 'load the demo data'));
  } finally {
    btn.disabled = false;
  }
}

// The "Untrack" control of an asset row: one click asks, the second does it.
// The assets table is redrawn by every refresh, so the question is kept here.
const confirming = new Set();
export function untrackButton(symbol) {
  const fb = h('span', { class: 'feedback', role: 'status', dataset: { testid: 'asset-untrack-feedback' } });
  const btn = h('button', {
    type: 'button', class: 'link untrack', dataset: { testid: 'asset-untrack', state: 'idle' },
    'aria-label': `Untrack ${symbol}`,
  }, 'Untrack');
  const ask = () => {
    btn.dataset.state = 'confirm';
    setText(btn, `Stop tracking ${symbol}?`);
  };
  if (confirming.has(symbol)) ask();
  btn.addEventListener('click', async () => {
    if (btn.dataset.state === 'idle') {
      confirming.add(symbol);
      ask();
      return;
    }
    confirming.delete(symbol);
    btn.disabled = true;
    try {
      await apiDelete(`/assets/${encodeURIComponent(symbol)}`);
      setText(fb, `${symbol} untracked (its history is kept)`);
      onChanged();
    } catch (e) {
      btn.disabled = false;
      btn.dataset.state = 'idle';
      setText(btn, 'Untrack');
      setText(fb, reason(e, 'untrack an asset'));
    }
  });
  return h('span', { class: 'untrack-wrap' }, btn, fb);
}
