// logs.js — the logs panel: level filter (also from the #logs?level=X deep
// link), newest-first paging and expandable JSON context.

import { apiGet } from './api.js';
import { $, h, changed, clear, setText, timeEl } from './dom.js';
import { fmtInt } from './format.js';
import { showPanelError } from './panels.js';

export const LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];
const PAGE = 50;

const state = { level: '', offset: 0, total: null, loading: 0 };
const openContexts = new Set();

export function initLogs() {
  const sel = $('#level-filter');
  sel.addEventListener('change', () => {
    state.level = LEVELS.includes(sel.value) ? sel.value : '';
    state.offset = 0;
    writeHash();
    loadLogs();
  });
  $('#logs-older').addEventListener('click', () => {
    state.offset += PAGE;
    writeHash();
    loadLogs();
  });
  $('#logs-newer').addEventListener('click', () => {
    state.offset = Math.max(0, state.offset - PAGE);
    writeHash();
    loadLogs();
  });
}

// "#logs?level=ERROR&offset=50" → filter state; returns true when the hash
// points at the logs section.
export function applyLogsHash(hash) {
  const m = /^#logs(?:\?(.*))?$/.exec(hash || '');
  if (!m) return false;
  if (m[1] === undefined) {
    // a plain "#logs" (the nav link) keeps the current filter
    if (state.level || state.offset) writeHash();
    return true;
  }
  const params = new URLSearchParams(m[1] || '');
  const lvl = (params.get('level') || '').toUpperCase();
  state.level = LEVELS.includes(lvl) ? lvl : '';
  const off = Number.parseInt(params.get('offset') || '0', 10);
  state.offset = Number.isFinite(off) && off > 0 ? Math.floor(off / PAGE) * PAGE : 0;
  $('#level-filter').value = state.level;
  return true;
}

function writeHash() {
  const params = new URLSearchParams();
  if (state.level) params.set('level', state.level);
  if (state.offset) params.set('offset', String(state.offset));
  const q = params.toString();
  history.replaceState(null, '', `#logs${q ? `?${q}` : ''}`);
}

// Auto-refresh only follows the newest page: older pages would shift under
// the reader's eyes as new entries arrive.
export function logsFollowLive() {
  return state.offset === 0;
}

export async function loadLogs() {
  const ticket = ++state.loading;
  const q = new URLSearchParams({ limit: String(PAGE), offset: String(state.offset) });
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
  if (!changed('logs', { body, level: state.level, offset: state.offset })) return;
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

  const from = logs.length ? state.offset + 1 : 0;
  const to = state.offset + logs.length;
  const of = state.total !== null ? ` of ${fmtInt(state.total)}` : '';
  const paused = state.offset > 0 ? ' · live updates paused on older pages' : '';
  setText($('#logs-range'), logs.length ? `${fmtInt(from)}–${fmtInt(to)}${of}${paused}` : `0${of}`);
  $('#logs-newer').disabled = state.offset === 0;
  $('#logs-older').disabled = state.total !== null ? to >= state.total : logs.length < PAGE;
}
