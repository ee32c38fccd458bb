// logs.js — the logs panel: level filter (also from the #logs?level=X deep
// link), newest-first paging and expandable JSON context.
//
// Pages go by the API's keyset cursor (before_id → next_before_id), not by
// offset: an older page costs the same however deep it is, and does not
// shift when new entries arrive. The cursors of the pages above the one
// shown are kept, so "Newer" walks back the same way.

import { apiGet } from './api.js';
import { $, h, changed, clear, setText, timeEl } from './dom.js';
import { fmtInt } from './format.js';
import { showPanelError } from './panels.js';

export const LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];
const PAGE = 50;

// before: the cursor of the page shown (null: the newest); above: the
// cursors of the pages between it and the newest; page: its number (0 the
// newest); offset: a legacy #logs?offset=N link, read once.
const state = { level: '', before: null, above: [], page: 0, offset: 0, next: null, total: null, loading: 0 };
const openContexts = new Set();

function resetPaging() {
  state.before = null;
  state.above = [];
  state.page = 0;
  state.offset = 0;
}

export function initLogs() {
  const sel = $('#level-filter');
  sel.addEventListener('change', () => {
    state.level = LEVELS.includes(sel.value) ? sel.value : '';
    resetPaging();
    writeHash();
    loadLogs();
  });
  $('#logs-older').addEventListener('click', () => {
    if (state.next === null) return;
    state.above.push(state.before);
    state.before = state.next;
    state.offset = 0;
    state.page += 1;
    writeHash();
    loadLogs();
  });
  $('#logs-newer').addEventListener('click', () => {
    // a deep link knows no pages above it: back to the newest
    state.before = state.above.length ? state.above.pop() : null;
    state.page = state.before === null ? 0 : Math.max(0, state.page - 1);
    state.offset = 0;
    if (state.before === null) state.above = [];
    writeHash();
    loadLogs();
  });
}

function positiveInt(v) {
  const n = Number.parseInt(v || '', 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

// "#logs?level=ERROR&before_id=123&page=2" → filter state; returns true
// when the hash points at the logs section. An older link's offset=N is
// read as that page.
export function applyLogsHash(hash) {
  const m = /^#logs(?:\?(.*))?$/.exec(hash || '');
  if (!m) return false;
  if (m[1] === undefined) {
    // a plain "#logs" (the nav link) keeps the current filter
    if (state.level || state.page) writeHash();
    return true;
  }
  const params = new URLSearchParams(m[1] || '');
  const lvl = (params.get('level') || '').toUpperCase();
  state.level = LEVELS.includes(lvl) ? lvl : '';
  resetPaging();
  const before = positiveInt(params.get('before_id'));
  if (before) {
    state.before = before;
    state.page = positiveInt(params.get('page')) || 1;
  } else {
    state.offset = Math.floor(positiveInt(params.get('offset')) / PAGE) * PAGE;
    state.page = state.offset / PAGE;
  }
  $('#level-filter').value = state.level;
  return true;
}

function writeHash() {
  const params = new URLSearchParams();
  if (state.level) params.set('level', state.level);
  if (state.before !== null) {
    params.set('before_id', String(state.before));
    params.set('page', String(state.page));
  } else if (state.offset) {
    params.set('offset', String(state.offset));
  }
  const q = params.toString();
  history.replaceState(null, '', `#logs${q ? `?${q}` : ''}`);
}

// Auto-refresh only follows the newest page: older pages would shift under
// the reader's eyes as new entries arrive.
export function logsFollowLive() {
  return state.page === 0;
}

export async function loadLogs() {
  const ticket = ++state.loading;
  const q = new URLSearchParams({ limit: String(PAGE) });
  if (state.before !== null) q.set('before_id', String(state.before));
  else if (state.offset) q.set('offset', String(state.offset));
  if (state.level) q.set('level', state.level);
  try {
    const body = await apiGet(`/logs?${q}`);
    if (ticket !== state.loading) return; // a newer request superseded this one
    renderLogs(body);
    showPanelError('logs', null);
  } catch (e) {
    if (ticket !== state.loading) return;
    showPanelError('logs', e);
    throw e;
  }
}

function renderLogs(body) {
  state.next = typeof body.next_before_id === 'number' ? body.next_before_id : null;
  if (!changed('logs', { body, level: state.level, before: state.before, offset: state.offset })) return;
  const list = $('#logs-list');
  const logs = Array.isArray(body.logs) ? body.logs : [];
  state.total = typeof body.total === 'number' ? body.total : null;
  clear(list);
  list.dataset.level = state.level;
  for (const l of logs) {
    const lvl = LEVELS.includes(l.level) ? l.level : 'INFO';
    const msg = h('div', { class: 'log-msg' }, h('span', { class: 'log-text', dataset: { testid: 'log-message' } }, String(l.message ?? '')));
    if (l.context !== null && l.context !== undefined) {
      const det = h('details', { class: 'log-ctx', dataset: { testid: 'log-context' } },
        h('summary', { title: 'Show the JSON context' }, 'context'),
        h('pre', null, JSON.stringify(l.context, null, 2)));
      if (openContexts.has(l.id)) det.open = true;
      det.addEventListener('toggle', () => (det.open ? openContexts.add(l.id) : openContexts.delete(l.id)));
      msg.append(det);
    }
    list.append(h('li', { class: `log-row lvl-${lvl.toLowerCase()}`, dataset: { testid: 'log-row', level: lvl, id: String(l.id ?? '') } },
      h('span', { class: 'log-time' }, timeEl(l.timestamp)),
      h('span', { class: `lvl lvl-badge-${lvl.toLowerCase()}`, dataset: { testid: 'log-level' } }, lvl),
      msg));
  }
  const empty = $('#logs-empty');
  setText(empty, state.level ? `No ${state.level} entries.` : 'No log entries.');
  empty.hidden = logs.length > 0;

  const first = state.page * PAGE;
  const from = logs.length ? first + 1 : 0;
  const to = first + logs.length;
  const of = state.total !== null ? ` of ${fmtInt(state.total)}` : '';
  const paused = state.page > 0 ? ' · live updates paused on older pages' : '';
  setText($('#logs-range'), logs.length ? `${fmtInt(from)}–${fmtInt(to)}${of}${paused}` : `0${of}`);
  $('#logs-newer').disabled = state.page === 0;
  $('#logs-older').disabled = state.next === null;
}
