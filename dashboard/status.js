// status.js — the status panel (state, countdown, cycle progress, queue,
// instances) and the "Trigger update now" button with its token prompt.

import { apiPost, getToken, setToken } from './api.js';
import { $, h, clear, setText, setBar, timeEl } from './dom.js';
import {
  capitalize, fmtClock, fmtCountdown, fmtDuration, fmtExact, fmtInt, fmtInterval, fmtRelative,
  isNum, parseTime,
} from './format.js';

const STATUS_WORDS = { running: 'Running', stopped: 'Stopped', degraded: 'Degraded' };
const STATUS_ICONS = { running: '●', stopped: '■', degraded: '▲' };

let last = null;          // last /status body
let nextDeadline = null;  // ms epoch when the next cycle is due, or null
let requestRefresh = () => {};

export function initStatus({ onRequestRefresh }) {
  requestRefresh = onRequestRefresh;
  $('#trigger').addEventListener('click', () => trigger.start());
  $('#token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const v = $('#token-input').value.trim();
    if (!v) return;
    setToken(v);
    $('#token-input').value = '';
    hideTokenForm();
    trigger.start();
  });
  $('#token-cancel').addEventListener('click', () => {
    hideTokenForm();
    trigger.set('error', 'Not triggered: no token given.');
    $('#trigger').focus();
  });
  $('#token-forget').addEventListener('click', () => {
    setToken('');
    showTokenSaved();
    trigger.set('idle', 'Saved token removed.');
    $('#trigger').focus();
  });
  showTokenSaved();
  // on a phone the queue counters would push everything else far down
  if (window.matchMedia('(max-width: 560px)').matches) $('#status-more').open = false;
}

function showTokenSaved() {
  $('#token-saved').hidden = !getToken() || !$('#token-form').hidden;
}

function showTokenForm() {
  $('#token-form').hidden = false;
  showTokenSaved();
  $('#token-input').focus();
}

function hideTokenForm() {
  $('#token-form').hidden = true;
  showTokenSaved();
}

// A cycle is running (or was just asked for): poll fast.
export function statusBusy() {
  if (trigger.waiting()) return true;
  return !!runningCycle(last) || !!(last && last.phase && last.phase !== 'idle');
}

// The cycle in progress, or null. The API may keep reporting the last cycle
// (done = total) while the daemon is idle, so the phase decides.
function runningCycle(s) {
  const c = s && s.cycle;
  if (!c || typeof c !== 'object') return null;
  if (typeof s.phase === 'string' && s.phase) return s.phase !== 'idle' ? c : null;
  return isNum(c.done) && isNum(c.total) && c.done >= c.total ? null : c;
}

export function lastStatus() {
  return last;
}

export function renderStatus(s) {
  last = s;
  const st = typeof s.status === 'string' ? s.status : 'unknown';
  for (const pill of [$('[data-testid="status"]'), $('#top-status')]) {
    pill.dataset.status = st;
    setText(pill, `${STATUS_ICONS[st] || '?'} ${STATUS_WORDS[st] || capitalize(st)}`);
  }
  const reasonEl = $('#status-reason');
  const reasons = [];
  if (s.degraded_reason) reasons.push(String(s.degraded_reason));
  if (s.offline) reasons.push('Upstream providers are unreachable (offline); prices are not being refreshed.');
  if (s.paused) reasons.push('Fetching is paused.');
  if (st === 'stopped' && !reasons.length) reasons.push('No fetcherd heartbeat: the daemon is not running.');
  setText(reasonEl, reasons.join(' '));
  reasonEl.hidden = reasons.length === 0;
  reasonEl.dataset.status = st;

  const lu = $('[data-testid="last-update"]');
  const luKey = s.last_update || '';
  if (lu.dataset.value !== luKey) {
    lu.dataset.value = luKey;
    clear(lu);
    lu.append(s.last_update ? timeEl(s.last_update) : h('span', { class: 'muted' }, 'never'));
  }

  nextDeadline = isNum(s.next_update_in_seconds) ? Date.now() + s.next_update_in_seconds * 1000 : null;
  tickStatus();

  const ta = $('[data-testid="tracked-assets"]');
  ta.dataset.value = String(s.tracked_assets_count ?? '');
  setText(ta, fmtInt(s.tracked_assets_count));
  setText($('[data-testid="interval"]'), fmtInterval(s.update_interval_minutes));

  const phase = $('[data-testid="phase"]');
  phase.dataset.phase = s.phase || '';
  setText(phase, s.phase ? capitalize(s.phase) : '—');

  setText($('[data-testid="database"]'), describeDb(s.database));

  renderProgress(runningCycle(s));
  renderQueue(s.queue);
  renderInstances(s.instances);
}

// The API did not answer: say so instead of showing a stale "Running".
export function renderStatusUnknown(err) {
  const known = last && typeof last.status === 'string' ? STATUS_WORDS[last.status] || last.status : null;
  for (const pill of [$('[data-testid="status"]'), $('#top-status')]) {
    pill.dataset.status = 'unknown';
    setText(pill, '? Unknown');
  }
  const reasonEl = $('#status-reason');
  reasonEl.dataset.status = 'unknown';
  setText(reasonEl, `The API did not answer (${err && err.message ? err.message : 'no answer'}).` +
    (known ? ` Last known state: ${known}.` : ''));
  reasonEl.hidden = false;
}

function describeDb(db) {
  if (db === undefined || db === null) return '—';
  if (typeof db === 'string') return db.toLowerCase() === 'ok' ? 'OK' : capitalize(db);
  if (typeof db === 'boolean') return db ? 'Connected' : 'Unreachable';
  if (typeof db === 'object') {
    const word = db.status ?? db.state ?? (db.connected === true ? 'connected' : db.connected === false ? 'unreachable' : null);
    let txt = word ? capitalize(String(word)) : JSON.stringify(db);
    if (isNum(db.buffered) && db.buffered > 0) txt += ` (${fmtInt(db.buffered)} rows buffered)`;
    return txt;
  }
  return String(db);
}

function renderProgress(cycle) {
  const block = $('#cycle-progress');
  if (!cycle || typeof cycle !== 'object') {
    block.hidden = true;
    return;
  }
  block.hidden = false;
  const done = isNum(cycle.done) ? cycle.done : 0;
  const total = isNum(cycle.total) ? cycle.total : 0;
  const started = parseTime(cycle.started_at);
  setText($('#cycle-progress-title'),
    `Cycle #${cycle.id ?? '?'} running${started ? ` since ${fmtClock(started)}` : ''}`);
  const pct = total > 0 ? Math.round((done / total) * 100) : 0;
  setText($('#cycle-progress-count'), `${fmtInt(done)} / ${fmtInt(total)} (${pct} %)`);
  setBar($('#cycle-progress-bar'), done, total, `${done} of ${total} assets`);
}

const QUEUE_LABELS = [
  ['queued', 'Queued'], ['in_flight', 'In flight'], ['completed', 'Completed'],
  ['deduplicated', 'Deduplicated'], ['errors', 'Errors'], ['retries', 'Retries'],
  ['upstream_requests', 'Upstream requests'],
];

function renderQueue(q) {
  const dl = $('#queue-counters');
  clear(dl);
  if (!q || typeof q !== 'object') {
    dl.append(h('div', null, h('dt', null, 'Queue'), h('dd', null, 'no data')));
    return;
  }
  for (const [k, label] of QUEUE_LABELS) {
    if (k in q) dl.append(h('div', null, h('dt', null, label), h('dd', { dataset: { key: k } }, fmtInt(q[k]))));
  }
  if (isNum(q.cache_hits) && isNum(q.cache_misses)) {
    const n = q.cache_hits + q.cache_misses;
    const rate = n ? `${Math.round((q.cache_hits / n) * 100)} %` : '—';
    dl.append(h('div', null, h('dt', null, 'Cache hits'),
      h('dd', { title: `${q.cache_hits} hits, ${q.cache_misses} misses` }, `${fmtInt(q.cache_hits)} (${rate})`)));
  }
}

function renderInstances(list) {
  const body = $('#instances-body');
  clear(body);
  if (!Array.isArray(list) || !list.length) {
    body.append(h('tr', null, h('td', { colspan: 6, class: 'muted' }, 'No daemon instance has reported yet.')));
    return;
  }
  for (const i of list) {
    const age = isNum(i.heartbeat_age_seconds) ? `${fmtDuration(i.heartbeat_age_seconds)} ago` : '';
    body.append(h('tr', { dataset: { testid: 'instance-row' } },
      h('td', { class: 'mono' }, String(i.instance_id ?? '—')),
      h('td', null, String(i.host ?? '—')),
      h('td', { class: 'mono' }, String(i.pid ?? '—')),
      h('td', null, timeEl(i.started_at, { rel: false })),
      h('td', { title: i.last_heartbeat ? fmtExact(parseTime(i.last_heartbeat)) : '' }, age || '—'),
      h('td', null, h('span', { class: 'pill pill-small', dataset: { status: i.status || '' } }, capitalize(i.status || 'unknown')))));
  }
}

// Every second: the countdown to the next cycle.
export function tickStatus() {
  const el = $('[data-testid="next-update"]');
  if (!last) return;
  const busy = runningCycle(last) || (last.phase && last.phase !== 'idle');
  if (nextDeadline === null) {
    setText(el, busy ? 'cycle running' : last.status === 'stopped' ? 'not scheduled' : '—');
    el.title = '';
    return;
  }
  const left = (nextDeadline - Date.now()) / 1000;
  if (left <= 0) setText(el, busy ? 'cycle running' : 'due now');
  else setText(el, `in ${fmtCountdown(left)}`);
  el.title = `at ${fmtExact(new Date(nextDeadline))}`;
}

// ---- Trigger update: pending → started → (running) → finished ----------

const trigger = {
  state: 'idle',
  baseline: null,
  seenCycle: null,
  sentAt: 0,
  history: [],

  waiting() {
    return this.state === 'pending' || this.state === 'started' || this.state === 'running';
  },

  set(state, message) {
    this.state = state;
    const el = $('#trigger-feedback');
    if (state === 'pending') this.history = [];
    if (this.history[this.history.length - 1] !== state) this.history.push(state);
    el.dataset.state = state;
    el.dataset.history = this.history.join(' ');
    setText(el, message || '');
    $('#trigger').disabled = this.waiting();
    $('#trigger').setAttribute('aria-busy', String(this.waiting()));
  },

  async start() {
    if (this.waiting()) return;
    const s = last || {};
    const run = runningCycle(s);
    this.baseline = {
      total: statsTotal,
      lastUpdate: s.last_update || null,
      runningId: run ? run.id : null,                  // a cycle already under way
      lastCycleId: s.cycle && s.cycle.id !== undefined ? s.cycle.id : null,
    };
    this.seenCycle = null;
    this.sentAt = Date.now();
    this.set('pending', 'Sending the update request…');
    try {
      const body = await apiPost('/trigger-update');
      const msg = body && typeof body.message === 'string' && body.message ? body.message : 'Update requested';
      this.set('started', `${msg} — waiting for the daemon to start a cycle…`);
      showTokenSaved();
      requestRefresh(300);
    } catch (e) {
      if (e.status === 401) {
        const had = !!getToken();
        if (had) setToken('');
        this.set('auth', had
          ? 'The saved API token was rejected (401). Enter a valid token to trigger updates.'
          : 'This API requires a token to trigger updates (401). Enter it below.');
        showTokenForm();
      } else if (e.status === 403) {
        this.set('error', 'Refused (403): without a token this API takes trigger requests only from its own ' +
          'machine (loopback). Start fetcher-api with FETCHER_API_TOKEN to trigger from elsewhere.' +
          (e.message && e.message !== 'HTTP 403' ? ` API said: ${e.message}` : ''));
      } else if (e.status === 0) {
        this.set('error', `Could not send the request: ${e.message}.`);
      } else {
        this.set('error', `Trigger failed (${e.status}): ${e.message}`);
      }
    }
  },

  // Called after every refresh with the fresh status and statistics.
  observe(s, stats) {
    if (this.state !== 'started' && this.state !== 'running') return;
    const b = this.baseline;
    const cyc = runningCycle(s);
    if (cyc && cyc.id !== b.runningId) {
      this.seenCycle = cyc.id;
      const done = isNum(cyc.done) ? cyc.done : 0;
      const total = isNum(cyc.total) ? cyc.total : 0;
      this.set('running', `Cycle #${cyc.id} running: ${fmtInt(done)} of ${fmtInt(total)} assets fetched…`);
      return;
    }
    const total = stats && isNum(stats.total_cycles) ? stats.total_cycles : null;
    const newId = s && s.cycle && s.cycle.id !== undefined && s.cycle.id !== b.lastCycleId ? s.cycle.id : null;
    const moved = (total !== null && isNum(b.total) && total > b.total) || newId !== null ||
      (s && s.last_update && s.last_update !== b.lastUpdate) || this.seenCycle !== null;
    if (s && !cyc && moved) {
      const id = this.seenCycle ?? newId;
      const how = stats && typeof stats.last_cycle_status === 'string' ? ` (${stats.last_cycle_status})` : '';
      const dur = stats && isNum(stats.last_cycle_duration_seconds) ? ` in ${fmtDuration(stats.last_cycle_duration_seconds)}` : '';
      this.set('finished', `${id !== null ? `Cycle #${id}` : 'The update'} finished${how}${dur} at ${fmtClock(new Date())}.`);
      requestRefresh(0);
      return;
    }
    const waited = (Date.now() - this.sentAt) / 1000;
    if (this.state === 'started' && waited > 20 && s && s.status === 'stopped') {
      this.set('error', 'Requested, but no fetcherd is running to pick the request up.');
    } else if (waited > 180) {
      this.set('error', `No finished cycle seen ${fmtRelative(new Date(this.sentAt)).replace(' ago', '')} after the request — see the logs.`);
    }
  },
};

let statsTotal = null;

export function observeForTrigger(s, stats) {
  if (stats && isNum(stats.total_cycles) && !trigger.waiting()) statsTotal = stats.total_cycles;
  trigger.observe(s, stats);
}
