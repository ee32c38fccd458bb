// alerts.js — the alerts panel: what fetcher-api has raised (daemon
// stopped, prices stale, a provider blocked or offline, cycles failing),
// firing ones first, then the history, with whether the webhook was told.
// Self-contained: it adds its own section after the statistics card and
// asks GET /api/fetcher/alerts every 15 s (an API without the endpoint
// leaves the panel hidden and is asked again every 5 minutes).

import { ApiError, apiGet } from './api.js';
import { $, changed, clear, h, setText, timeEl } from './dom.js';
import { fmtDuration } from './format.js';

const POLL_MS = 15000;
const ABSENT_MS = 5 * 60 * 1000;
const TITLES = {
  daemon_stopped: 'Daemon stopped',
  prices_stale: 'Prices stale',
  provider_offline: 'Provider offline',
  provider_blocked: 'Provider blocked',
  cycles_failing: 'Cycles failing',
};
const NOTICE = {
  off: 'not sent (no webhook)', pending: 'waiting to be sent', sent: 'sent',
  rejected: 'refused by the receiver', dropped: 'dropped (queue full)',
};

function section() {
  const sec = h('section', {
    id: 'alerts', class: 'card card-wide', 'aria-labelledby': 'alerts-h', dataset: { testid: 'alerts-panel' }, hidden: true,
  },
  h('div', { class: 'card-head' },
    h('h2', { id: 'alerts-h' }, 'Alerts'),
    h('span', { class: 'muted', id: 'alerts-summary', dataset: { testid: 'alerts-summary' }, 'aria-live': 'polite' })),
  h('p', { class: 'panel-error', id: 'alerts-error', hidden: true }),
  h('p', { class: 'hint', id: 'alerts-empty', hidden: true }, 'No alert has been raised yet.'),
  h('div', { class: 'table-wrap', id: 'alerts-wrap', hidden: true },
    h('table', { class: 'table', dataset: { testid: 'alerts-table' } },
      h('caption', { class: 'sr-only' }, 'Alerts raised by fetcher-api, firing first, newest first'),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, 'State'), h('th', { scope: 'col' }, 'Alert'), h('th', { scope: 'col' }, 'What'),
        h('th', { scope: 'col' }, 'Started'), h('th', { scope: 'col', class: 'num' }, 'Lasted'),
        h('th', { scope: 'col', class: 'col-opt' }, 'Notification'))),
      h('tbody', { id: 'alerts-body' }))));
  const after = $('#stats') || $('#status');
  if (after && after.parentNode) after.parentNode.insertBefore(sec, after.nextSibling);
  else document.body.append(sec);
  return sec;
}

function row(a) {
  const firing = a.status === 'firing';
  const n = a.notified || {};
  const told = firing ? NOTICE[n.fire] : `${NOTICE[n.fire] || '—'}; resolution ${NOTICE[n.resolve] || '—'}`;
  return h('tr', { dataset: { testid: 'alert-row', alert: a.alert, status: a.status } },
    h('td', null, h('span', { class: `badge ${firing ? 'badge-bad' : 'badge-ok'}` }, firing ? 'firing' : 'resolved')),
    h('td', null, TITLES[a.alert] || a.alert, a.subject ? h('span', { class: 'muted' }, ` · ${a.subject}`) : null),
    h('td', null, a.summary),
    h('td', null, timeEl(a.started_at)),
    h('td', { class: 'num' }, fmtDuration(a.duration_seconds)),
    h('td', { class: 'col-opt', title: n.last_error ? `last error: ${n.last_error}` : '' },
      `${told || '—'}${n.attempts ? ` (${n.attempts} attempt${n.attempts === 1 ? '' : 's'})` : ''}`));
}

function render(sec, body) {
  if (!changed('alerts', body)) return;
  const list = Array.isArray(body.alerts) ? body.alerts : [];
  // firing first, each group newest first (the API sends newest first)
  const sorted = [...list.filter((a) => a.status === 'firing'), ...list.filter((a) => a.status !== 'firing')];
  const tbody = $('#alerts-body', sec);
  clear(tbody);
  for (const a of sorted) tbody.append(row(a));
  $('#alerts-wrap', sec).hidden = sorted.length === 0;
  $('#alerts-empty', sec).hidden = sorted.length !== 0;
  const firing = Number(body.firing) || 0;
  setText($('#alerts-summary', sec), firing ? `${firing} firing` : 'none firing');
  sec.dataset.firing = String(firing);
}

function showError(sec, e) {
  const p = $('#alerts-error', sec);
  p.hidden = !e;
  setText(p, e ? `Could not load alerts: ${e.message}` : '');
}

async function poll(sec) {
  let wait = POLL_MS;
  try {
    const body = await apiGet('/alerts?limit=50');
    sec.hidden = false;
    showError(sec, null);
    render(sec, body);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405)) {
      sec.hidden = true;
      wait = ABSENT_MS;
    } else {
      showError(sec, e);
    }
  }
  setTimeout(() => poll(sec), wait);
}

const sec = section();
poll(sec);
document.addEventListener('visibilitychange', () => { if (!document.hidden) apiGet('/alerts?limit=50').then((b) => render(sec, b), () => {}); });
