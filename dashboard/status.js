// status.js — the status panel (state, countdown, cycle progress, queue,
// instances) and the "Trigger update now" button with its token prompt.

import { apiPost, getToken, setToken } from './api.js';
import { setPaused, writeError } from './actions.js';
import { $, h, clear, setText, setBar, timeEl } from './dom.js';
import {
  capitalize, fmtClock, fmtCountdown, fmtDuration, fmtExact, fmtInt, fmtInterval, fmtRelative,
  isNum, parseTime,
} from './format.js';

const STATUS_WORDS = { running: 'Running', stopped: 'Stopped', degraded: 'Degraded', idle: 'Idle' };
const STATUS_ICONS = { running: '●', stopped: '■', degraded: '▲', idle: '○' };

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
  $('#pause').addEventListener('click', togglePause);
  showTokenSaved();
  // on a phone the instances table would push everything else far down
  if (window.matchMedia('(max-width: 560px)').matches) $('#status-more').open = false;
}

function showTokenSaved() {
  $('#token-saved').hidden = !getToken() || !$('#token-form').hidden;
}

// A write other than the trigger needs a token: the same form, and the
// message in the trigger's feedback line (next to the form).
export function askForToken(message) {
  trigger.set('auth', message);
  showTokenForm();
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
  if (liveCycle && liveCycle.running) return true;
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
  if (s.idle_reason) reasons.push(`Idle: ${s.idle_reason}. Add an asset, import a portfolio or load the demo data below.`);
  if (s.offline) reasons.push('Upstream providers are unreachable (offline); prices are not being refreshed.');
  renderPaused(s);
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

  // while live events drive a running cycle, they know its phase best
  if (!(liveCycle && liveCycle.running)) {
    const phase = $('[data-testid="phase"]');
    phase.dataset.phase = s.phase || '';
    setText(phase, s.phase ? capitalize(s.phase) : '—');
  }

  setText($('[data-testid="database"]'), describeDb(s.database));
  renderBackfill(s.backfill);

  // live events drive the block; a poll takes over when they went quiet
  const pc = runningCycle(s);
  if (liveCycle && liveCycle.running && !pc && Date.now() - liveCycle.seenAt > 5000) liveCycle = null;
  if (!liveCycle || (pc && pc.id !== liveCycle.id)) {
    liveCycle = null;
    renderProgress(pc, 'poll');
  }
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

// The daily-history backfill: "backfilling 12 of 40" while a round runs,
// its outcome (with failures) after; hidden before any.
function renderBackfill(b) {
  const row = $('[data-testid="backfill-row"]');
  const el = $('[data-testid="backfill"]');
  if (!row || !el) return;
  const shown = b && isNum(b.total) && b.total > 0;
  row.hidden = !shown;
  if (!shown) return;
  el.dataset.active = b.active ? 'true' : 'false';
  const failed = b.failed > 0 ? `, ${fmtInt(b.failed)} failed` : '';
  setText(el, b.active ? `backfilling ${fmtInt(b.done)} of ${fmtInt(b.total)}${failed}`
    : `backfilled ${fmtInt(b.total - b.failed)} of ${fmtInt(b.total)}${failed}`);
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

// The cycle progress block: from a poll (status.cycle) or from live events
// (source 'live'); data-* attributes say what it shows, for tests and CSS.
function renderProgress(cycle, source, finished) {
  const block = $('#cycle-progress');
  if (!cycle || typeof cycle !== 'object') {
    block.hidden = true;
    block.dataset.state = 'idle';
    return;
  }
  block.hidden = false;
  const done = isNum(cycle.done) ? cycle.done : 0;
  const total = isNum(cycle.total) ? cycle.total : 0;
  const started = parseTime(cycle.started_at);
  const id = cycle.id ?? '?';
  block.dataset.cycle = String(id);
  block.dataset.done = String(done);
  block.dataset.total = String(total);
  block.dataset.source = source;
  block.dataset.state = finished ? 'finished' : 'running';
  const ph = cycle.phase && cycle.phase !== 'idle' ? cycle.phase : null;
  setText($('#cycle-progress-phase'), finished ? '' : ph ? capitalize(ph) : '');
  setText($('#cycle-progress-title'), finished
    ? `Cycle #${id} ${finished.status || 'finished'}${isNum(finished.duration_ms) ? ` in ${fmtDuration(finished.duration_ms / 1000)}` : ''}`
    : `Cycle #${id} running${started ? ` since ${fmtClock(started)}` : ''}`);
  const pct = total > 0 ? Math.round((done / total) * 100) : 0;
  setText($('#cycle-progress-count'), `${fmtInt(done)} / ${fmtInt(total)} (${pct} %)`);
  setBar($('#cycle-progress-bar'), done, total, `${done} of ${total} assets`);
  $('#cycle-progress-bar').dataset.level = finished && finished.status && finished.status !== 'succeeded' ? 'warn' : '';
}

// ---- live events (live.js) -------------------------------------------------

let liveCycle = null;   // {id, done, total, phase, started_at, running}
let hideTimer = null;

export function liveCycleStarted(d) {
  clearTimeout(hideTimer);
  liveCycle = { id: d.cycle_id, seq: d.seq, instance: d.instance_id, done: 0, total: d.total, phase: 'fetching',
    started_at: new Date().toISOString(), running: true, trigger: d.trigger, seenAt: Date.now() };
  renderProgress(liveCycle, 'live');
  setPhase('fetching');
  trigger.liveStarted(liveCycle);
}

export function liveProgress(d) {
  if (!liveCycle || !liveCycle.running || (d.instance_id && liveCycle.instance && d.instance_id !== liveCycle.instance)) {
    // joined in the middle of a cycle: the id comes with the next poll
    liveCycle = { id: last && last.cycle ? last.cycle.id : '?', instance: d.instance_id, started_at: last && last.cycle ? last.cycle.started_at : null, running: true };
  }
  liveCycle.done = d.done;
  liveCycle.seenAt = Date.now();
  liveCycle.total = d.total;
  liveCycle.phase = d.phase;
  renderProgress(liveCycle, 'live');
  if (d.phase) setPhase(d.phase);
  trigger.liveStarted(liveCycle);
}

export function liveCycleFinished(d) {
  clearTimeout(hideTimer);
  const c = liveCycle && liveCycle.id === d.cycle_id ? liveCycle : { id: d.cycle_id, total: null };
  c.running = false;
  const total = isNum(c.total) ? c.total : (d.assets_succeeded || 0) + (d.assets_failed || 0) + (d.assets_skipped || 0);
  c.total = total;
  c.done = total;
  liveCycle = c;
  renderProgress(c, 'live', d);
  setPhase('idle');
  trigger.liveFinished(d);
  // the finished bar stays a moment, then the block goes away
  hideTimer = setTimeout(() => {
    if (liveCycle === c) {
      liveCycle = null;
      renderProgress(runningCycle(last), 'poll');
    }
  }, 6000);
}

function setPhase(p) {
  const phase = $('[data-testid="phase"]');
  phase.dataset.phase = p || '';
  setText(phase, p ? capitalize(p) : '—');
  if (last) last.phase = p;
}

export function livePaused(paused) {
  if (!last) return;
  last.paused = paused;
  if (paused && !last.paused_since) last.paused_since = new Date().toISOString();
  if (!paused) last.paused_since = null;
  renderPaused(last);
}

// ---- pause / resume ------------------------------------------------------------

function renderPaused(s) {
  const badge = $('#paused-badge');
  const btn = $('#pause');
  const paused = !!s.paused;
  badge.hidden = !paused;
  const since = parseTime(s.paused_since);
  setText($('#paused-text'), paused ? `Paused${since ? ` since ${fmtClock(since)}` : ''}${s.paused_by ? ` by ${s.paused_by}` : ''}` : '');
  badge.title = since ? fmtExact(since) : '';
  document.body.classList.toggle('is-paused', paused);
  if (!btn.disabled || btn.dataset.busy !== '1') {
    btn.dataset.paused = String(paused);
    setText(btn, paused ? 'Resume schedule' : 'Pause schedule');
    btn.setAttribute('aria-pressed', String(paused));
  }
}

async function togglePause() {
  const btn = $('#pause');
  const out = $('#pause-feedback');
  const pause = btn.dataset.paused !== 'true';
  btn.disabled = true;
  btn.dataset.busy = '1';
  out.dataset.state = 'pending';
  setText(out, pause ? 'Pausing the schedule…' : 'Resuming the schedule…');
  try {
    const b = await setPaused(pause);
    btn.dataset.busy = '';
    btn.disabled = false;
    if (last) {
      last.paused = !!b.paused;
      last.paused_since = b.since || null;
    }
    renderPaused(last || { paused: b.paused, paused_since: b.since });
    out.dataset.state = 'finished';
    setText(out, b.paused
      ? 'Scheduled cycles paused: no cycle starts on its own until you resume (manual triggers still work).'
      : 'Scheduled cycles resumed.');
    requestRefresh(200);
  } catch (e) {
    btn.dataset.busy = '';
    btn.disabled = false;
    out.dataset.state = 'error';
    setText(out, writeError(e, pause ? 'pause the schedule' : 'resume the schedule'));
  }
}

const ROLE_HELP = {
  solo: 'The only live instance: it runs every cycle itself',
  leader: 'Holds the schedule lease: it plans the cycles the instances share',
  follower: 'Takes its share of the cycles the leader plans',
  unknown: 'Has not yet heard from the database who leads',
};

function renderInstances(list) {
  const body = $('#instances-body');
  clear(body);
  if (!Array.isArray(list) || !list.length) {
    body.append(h('tr', null, h('td', { colspan: 8, class: 'muted' }, 'No daemon instance has reported yet.')));
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
      h('td', null, h('span', { class: 'pill pill-small', dataset: { status: i.status || '' } }, capitalize(i.status || 'unknown'))),
      // several instances on one database: who leads the schedule, and how
      // many assets each recorded in the last finished cycle
      h('td', { dataset: { testid: 'instance-role' }, title: ROLE_HELP[i.role] || '' }, i.role ? capitalize(i.role) : '—'),
      h('td', { class: 'num', dataset: { testid: 'instance-share' } }, isNum(i.share) ? String(i.share) : '—')));
  }
}

// Every second: the countdown to the next cycle.
export function tickStatus() {
  const el = $('[data-testid="next-update"]');
  if (!last) return;
  const busy = runningCycle(last) || (last.phase && last.phase !== 'idle');
  if (last.paused && !busy) {
    setText(el, 'paused');
    el.title = 'Scheduled cycles are paused';
    return;
  }
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
  early: [],

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
    el.dataset.source = this.source || '';
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
    this.early = [];
    this.source = '';
    this.sentAt = Date.now();
    this.set('pending', 'Sending the update request…');
    try {
      const body = await apiPost('/trigger-update');
      const msg = body && typeof body.message === 'string' && body.message ? body.message : 'Update requested';
      this.set('started', `${msg} — waiting for the daemon to start a cycle…`);
      showTokenSaved();
      // live: the cycle's start arrives as an event; else look soon
      if (!isLiveNow()) requestRefresh(300);
      for (const replay of this.early.splice(0)) replay();
    } catch (e) {
      this.early = [];
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

  // Live events: a cycle started / progressed, a cycle finished.
  liveStarted(c) {
    // the stream can beat the POST's answer: keep the event for then
    if (this.state === 'pending') { this.early.push(() => this.liveStarted(c)); return; }
    if (this.state !== 'started' && this.state !== 'running') return;
    if (c.id === this.baseline.runningId) return;
    this.seenCycle = c.id;
    this.source = 'live';
    this.set('running', `Cycle #${c.id} running: ${fmtInt(c.done || 0)} of ${fmtInt(c.total || 0)} assets fetched…`);
  },

  liveFinished(d) {
    if (this.state === 'pending') { this.early.push(() => this.liveFinished(d)); return; }
    if (this.state !== 'started' && this.state !== 'running') return;
    if (this.seenCycle !== null && d.cycle_id !== this.seenCycle) return;
    if (this.seenCycle === null && d.cycle_id === this.baseline.lastCycleId) return;
    this.source = 'live';
    const dur = isNum(d.duration_ms) ? ` in ${fmtDuration(d.duration_ms / 1000)}` : '';
    const counts = isNum(d.assets_succeeded) ? `: ${fmtInt(d.assets_succeeded)} ok, ${fmtInt(d.assets_failed || 0)} failed` : '';
    this.set('finished', `Cycle #${d.cycle_id} finished (${d.status || 'done'})${dur}${counts} at ${fmtClock(new Date())}.`);
  },

  // Called after every refresh with the fresh status and statistics.
  observe(s, stats) {
    if (this.state !== 'started' && this.state !== 'running') return;
    this.source = 'poll';
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
let isLiveNow = () => false;

export function setLiveProbe(fn) {
  isLiveNow = fn;
}

export function observeForTrigger(s, stats) {
  if (stats && isNum(stats.total_cycles) && !trigger.waiting()) statsTotal = stats.total_cycles;
  trigger.observe(s, stats);
}
