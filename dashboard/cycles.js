// cycles.js — cycle-history chart (hand-made SVG, one bar per cycle, height =
// duration, colour = status) and the per-asset updates of a chosen cycle.
// Shown only when the API has /api/fetcher/cycles.

import { apiGet } from './api.js';
import { $, h, changed, svg, clear, setText, timeEl } from './dom.js';
import { fmtClock, fmtDuration, fmtExact, fmtInt, fmtPrice, isNum, parseTime } from './format.js';
import { assetName, resultCell } from './panels.js';
import { providerOf } from './assets.js';
import { retryButton } from './actions.js';

const STATUSES = ['succeeded', 'partial', 'failed', 'aborted', 'running'];
let cycles = [];         // oldest first
let selected = null;     // cycle id shown in the detail view
let focusId = null;      // roving tabindex target
let lastWidth = 0;
let pendingOpen = null;  // a #cycles/123 deep link waiting for the chart

export function initCycles() {
  const chart = $('#cycles-chart');
  if ('ResizeObserver' in window) {
    new ResizeObserver(() => {
      if (chart.clientWidth !== lastWidth && cycles.length) drawChart();
    }).observe(chart);
  }
}

export function renderCycles(body) {
  // unchanged answers are not redrawn, unless a running bar has to grow
  if (!changed('cycles', body) && !cycles.some((c) => c.status === 'running')) return;
  const list = Array.isArray(body.cycles) ? body.cycles.slice() : [];
  list.sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  cycles = list.slice(-100);
  drawChart();
  if (pendingOpen !== null) {
    const id = pendingOpen;
    pendingOpen = null;
    selectCycle(id, true);
    return;
  }
  if (selected !== null) {
    const c = cycles.find((x) => x.id === selected);
    if (c && c.status === 'running') loadCycle(selected, { quiet: true });
  }
}

function durationSec(c) {
  if (isNum(c.duration_ms)) return c.duration_ms / 1000;
  if (c.status === 'running') {
    const s = parseTime(c.started_at);
    if (s) return Math.max(0, (Date.now() - s.getTime()) / 1000);
  }
  return 0;
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

// Axis labels in one unit for the whole scale: "0 s", "2.5 s", "5 s".
function tickLabel(v, max) {
  if (max < 1) return `${Number((v * 1000).toFixed(v * 1000 < 10 ? 1 : 0))} ms`;
  if (max >= 120) return `${Math.round(v / 60)} min`;
  return `${Number.isInteger(v) ? v : v.toFixed(1)} s`;
}

function describe(c) {
  const start = parseTime(c.started_at);
  const parts = [`Cycle #${c.id}`, c.status, fmtDuration(durationSec(c))];
  if (isNum(c.assets_total)) parts.push(`${fmtInt(c.assets_succeeded ?? 0)} of ${fmtInt(c.assets_total)} assets ok`);
  if (c.trigger) parts.push(`trigger ${c.trigger}`);
  if (start) parts.push(fmtExact(start));
  return parts.join(' · ');
}

function drawChart() {
  const box = $('#cycles-chart');
  clear(box);
  if (!cycles.length) {
    box.append(h('p', { class: 'empty' }, 'No cycles recorded yet.'));
    return;
  }
  const W = Math.max(280, box.clientWidth || 600);
  lastWidth = box.clientWidth;
  const H = W < 500 ? 150 : 190;
  const m = { l: 52, r: 8, t: 10, b: 22 };
  const iw = W - m.l - m.r;
  const ih = H - m.t - m.b;
  const max = niceMax(Math.max(...cycles.map(durationSec)));
  const slots = Math.max(cycles.length, 30);
  const slot = iw / slots;
  const bw = Math.max(1, slot * 0.78);
  const x0 = m.l + (slots - cycles.length) * slot; // newest flush right

  const root = svg('svg', {
    width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'chart-svg', role: 'group',
    'aria-label': `Durations of the last ${cycles.length} cycles, longest ${fmtDuration(max)} on the scale`,
  });
  // grid and y labels
  for (const f of [0, 0.5, 1]) {
    const y = m.t + ih - f * ih;
    root.append(svg('line', { x1: m.l, x2: W - m.r, y1: y, y2: y, class: f === 0 ? 'axis' : 'grid' }));
    root.append(svg('text', { x: m.l - 6, y: y + 4, class: 'tick', 'text-anchor': 'end' }, tickLabel(max * f, max)));
  }
  // x labels: first and last cycle
  const first = cycles[0];
  const lastC = cycles[cycles.length - 1];
  const t0 = parseTime(first.started_at);
  const t1 = parseTime(lastC.started_at);
  // the first label only when it cannot collide with the last one
  if (cycles.length > 1 && W - m.r - x0 > 220) {
    root.append(svg('text', { x: x0, y: H - 6, class: 'tick', 'text-anchor': 'start' }, `#${first.id}${t0 ? ` ${fmtClock(t0)}` : ''}`));
  }
  root.append(svg('text', { x: W - m.r, y: H - 6, class: 'tick', 'text-anchor': 'end' }, `#${lastC.id}${t1 ? ` ${fmtClock(t1)}` : ''}`));

  if (focusId === null || !cycles.some((c) => c.id === focusId)) focusId = selected ?? lastC.id;
  cycles.forEach((c, i) => {
    const d = durationSec(c);
    const bh = Math.max(2, (d / max) * ih);
    const x = x0 + i * slot + (slot - bw) / 2;
    const st = STATUSES.includes(c.status) ? c.status : 'aborted';
    const bar = svg('rect', {
      x: x.toFixed(1), y: (m.t + ih - bh).toFixed(1), width: bw.toFixed(1), height: bh.toFixed(1),
      class: `cbar st-${st}${c.id === selected ? ' selected' : ''}`,
      tabindex: c.id === focusId ? 0 : -1, role: 'button', 'aria-label': describe(c),
      'data-testid': 'cycle-bar', 'data-id': c.id, 'data-status': st,
    }, svg('title', null, describe(c)));
    bar.addEventListener('click', () => selectCycle(c.id, true));
    bar.addEventListener('keydown', (e) => onBarKey(e, i));
    root.append(bar);
    // an invisible, taller hit area makes thin or short bars easy to click
    const hit = svg('rect', { x: (x0 + i * slot).toFixed(1), y: m.t, width: slot.toFixed(1), height: ih, class: 'chit' });
    hit.addEventListener('click', () => selectCycle(c.id, true));
    root.insertBefore(hit, root.firstChild);
  });
  box.append(root);
}

function onBarKey(e, i) {
  let j = null;
  if (e.key === 'ArrowLeft') j = i - 1;
  else if (e.key === 'ArrowRight') j = i + 1;
  else if (e.key === 'Home') j = 0;
  else if (e.key === 'End') j = cycles.length - 1;
  else if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    selectCycle(cycles[i].id, true);
    return;
  }
  if (j === null) return;
  e.preventDefault();
  j = Math.max(0, Math.min(cycles.length - 1, j));
  focusId = cycles[j].id;
  const bars = Array.from(document.querySelectorAll('#cycles-chart .cbar'));
  bars.forEach((b, k) => b.setAttribute('tabindex', k === j ? '0' : '-1'));
  bars[j].focus();
}

// "#cycles/123" opens that cycle; "#cycles" is just the panel.
export function applyCyclesHash(hash, initial) {
  const m = /^#cycles(?:\/(\d+))?$/.exec(hash || '');
  if (!m) return false;
  if (m[1]) {
    const id = Number(m[1]);
    if (initial || !cycles.length) pendingOpen = id;
    else selectCycle(id, true);
  }
  return true;
}

// A live cycle_started / cycle_finished: the chart follows without waiting
// for the next poll (the refresh that follows fills in the details).
export function cycleEventSeen(d, status) {
  if (!isNum(d.cycle_id) || !cycles.length && status !== 'running') return;
  let c = cycles.find((x) => x.id === d.cycle_id);
  if (!c) {
    c = { id: d.cycle_id, status: 'running', started_at: new Date().toISOString(), trigger: d.trigger, assets_total: d.total };
    cycles.push(c);
    cycles = cycles.slice(-100);
  }
  c.status = status;
  if (status !== 'running') {
    c.duration_ms = d.duration_ms;
    c.assets_succeeded = d.assets_succeeded;
    c.assets_failed = d.assets_failed;
  }
  if (!$('#cycles').hidden) drawChart();
}

function selectCycle(id, fromUser) {
  selected = id;
  if (fromUser && location.hash !== `#cycles/${id}`) history.replaceState(null, '', `#cycles/${id}`);
  focusId = id;
  for (const b of document.querySelectorAll('#cycles-chart .cbar')) {
    b.classList.toggle('selected', Number(b.dataset.id) === id);
    b.setAttribute('tabindex', Number(b.dataset.id) === id ? '0' : '-1');
  }
  loadCycle(id, { quiet: !fromUser });
}

let detailTicket = 0;

async function loadCycle(id, { quiet }) {
  const box = $('#cycle-detail');
  const ticket = ++detailTicket;
  box.hidden = false;
  if (!quiet) {
    clear(box);
    box.append(h('p', { class: 'muted' }, `Loading cycle #${id}…`));
  }
  try {
    const body = await apiGet(`/cycles/${encodeURIComponent(id)}`);
    if (ticket !== detailTicket) return;
    renderDetail(body);
  } catch (e) {
    if (ticket !== detailTicket) return;
    clear(box);
    box.append(h('p', { class: 'panel-error' }, e.status === 404 ? `Cycle #${id} was not found.` : `Could not load cycle #${id}: ${e.message}`));
  }
}

function renderDetail(body) {
  const box = $('#cycle-detail');
  // {cycle: {...}, updates: [...]} or the cycle itself with its updates inside
  const c = body.cycle && typeof body.cycle === 'object' ? body.cycle : body;
  const ups = Array.isArray(body.updates) ? body.updates : Array.isArray(c.updates) ? c.updates : [];
  clear(box);
  const close = h('button', { type: 'button', class: 'btn btn-quiet', 'aria-label': 'Close cycle details' }, 'Close');
  close.addEventListener('click', () => {
    const id = selected;
    selected = null;
    if (location.hash.startsWith('#cycles/')) history.replaceState(null, '', '#cycles');
    box.hidden = true;
    clear(box);
    for (const b of document.querySelectorAll('#cycles-chart .cbar')) b.classList.remove('selected');
    const bar = document.querySelector(`#cycles-chart .cbar[data-id="${id}"]`);
    if (bar) bar.focus();
  });
  const st = STATUSES.includes(c.status) ? c.status : 'aborted';
  box.append(h('div', { class: 'detail-head' },
    h('h3', null, `Cycle #${c.id ?? '?'} `, h('span', { class: `badge st-badge st-${st}` }, c.status || 'unknown')),
    close));
  box.append(h('dl', { class: 'kv kv-compact' },
    h('div', null, h('dt', null, 'Started'), h('dd', null, timeEl(c.started_at))),
    h('div', null, h('dt', null, 'Duration'), h('dd', null, fmtDuration(durationSec(c)))),
    h('div', null, h('dt', null, 'Assets'), h('dd', null,
      `${fmtInt(c.assets_succeeded ?? 0)} ok, ${fmtInt(c.assets_failed ?? 0)} failed of ${fmtInt(c.assets_total ?? ups.length)}`)),
    h('div', null, h('dt', null, 'Trigger'), h('dd', null, String(c.trigger ?? '—')))));
  if (c.error) box.append(h('p', { class: 'err-text' }, String(c.error)));
  if (!ups.length) {
    box.append(h('p', { class: 'empty' }, 'No per-asset updates recorded for this cycle.'));
    return;
  }
  const failedUps = ups.filter((u) => !u.success);
  if (failedUps.length) box.append(renderGroups(failedUps, c));
  const tbody = h('tbody');
  // failures first: they are what one opens a cycle for
  const sorted = ups.filter((u) => !u.success).concat(ups.filter((u) => u.success));
  for (const u of sorted) {
    tbody.append(h('tr', { dataset: { testid: 'cycle-update-row' }, class: u.success ? '' : 'row-bad' },
      h('th', { scope: 'row', class: 'sym', title: u.name || '' }, String(u.symbol ?? '—')),
      h('td', { class: 'col-name' }, String(u.name ?? assetName(u.symbol) ?? '')),
      h('td', { class: 'num mono' }, u.price === null || u.price === undefined ? '—' : fmtPrice(u.price, u.currency)),
      h('td', { class: 'num mono' }, isNum(u.duration_ms) ? `${fmtInt(u.duration_ms)} ms` : '—'),
      h('td', null, h('div', { class: 'result-wrap' }, resultCell(u), u.success ? null : retryButton([u.symbol], { testid: 'update-retry', label: 'Retry' })))));
  }
  box.append(h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
    h('caption', { class: 'sr-only' }, `Updates of cycle ${c.id}`),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, 'Symbol'), h('th', { scope: 'col', class: 'col-name' }, 'Name'),
      h('th', { scope: 'col', class: 'num' }, 'Price'), h('th', { scope: 'col', class: 'num' }, 'Took'),
      h('th', { scope: 'col' }, 'Result'))),
    tbody)));
  setText($('#cycles-error'), '');
}

// ---- errors grouped by cause ---------------------------------------------------

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// The cause of an error, without what is particular to one asset: the
// symbol (and the provider's id for it) become "…", so "symbol X missing
// from coingecko's answer" and "symbol Y …" fall in one group.
export function errorCause(u) {
  let msg = String(u.error || 'no error message');
  const prov = providerOf(u.symbol) || (/^([a-z][a-z0-9_-]*): /.exec(msg) || [])[1] || '';
  for (const s of [u.symbol, u.provider_symbol].filter(Boolean)) {
    msg = msg.replace(new RegExp(`(^|[^A-Za-z0-9])${escapeRe(String(s))}(?![A-Za-z0-9])`, 'gi'), '$1…');
  }
  let rest = prov && msg.startsWith(`${prov}: `) ? msg.slice(prov.length + 2) : msg;
  let title;
  const http = /^HTTP (\d{3})\b[:\s]*(.*)$/.exec(rest);
  if (http) {
    const why = http[2].replace(/^\((.*)\)$/, '$1');
    title = `HTTP ${http[1]}${prov ? ` from ${prov}` : ''}${why ? ` — ${why}` : ''}`;
  } else {
    rest = rest.charAt(0).toUpperCase() + rest.slice(1);
    title = prov && !rest.toLowerCase().includes(prov.toLowerCase()) ? `${prov}: ${rest}` : rest;
  }
  return { key: `${prov}|${rest}`, title };
}

function renderGroups(failedUps, c) {
  const groups = new Map();
  for (const u of failedUps) {
    const cause = errorCause(u);
    let g = groups.get(cause.key);
    if (!g) groups.set(cause.key, (g = { title: cause.title, symbols: [] }));
    if (!g.symbols.includes(u.symbol)) g.symbols.push(u.symbol);
  }
  const list = Array.from(groups.values()).sort((a, b) => b.symbols.length - a.symbols.length || a.title.localeCompare(b.title));
  const ul = h('ul', { class: 'groups', dataset: { testid: 'error-groups' }, 'aria-label': `Errors of cycle ${c.id}, grouped by cause` });
  for (const g of list) {
    const n = g.symbols.length;
    const shown = g.symbols.slice(0, 12).join(', ') + (n > 12 ? ` and ${n - 12} more` : '');
    ul.append(h('li', { class: 'group', dataset: { testid: 'error-group', count: String(n), symbols: g.symbols.join(' ') } },
      h('div', { class: 'group-text' },
        h('strong', { dataset: { testid: 'error-group-title' } }, `${fmtInt(n)} ${n === 1 ? 'asset' : 'assets'}: ${g.title}`),
        h('span', { class: 'group-syms mono' }, shown)),
      retryButton(g.symbols, { testid: 'group-retry', label: n === 1 ? 'Retry' : `Retry all ${n}` })));
  }
  return h('div', { class: 'group-box' }, h('h4', null, 'Errors by cause'), ul);
}
