// panels.js — statistics tiles, the recent-updates table and the portfolios
// table. Each render takes the API body and rebuilds its part of the page.

import { $, h, changed, clear, setText, setBar, timeEl } from './dom.js';
import { fmtDuration, fmtInt, fmtMoney, fmtPercent, fmtPrice, fmtUptime, isNum } from './format.js';

export function showPanelError(id, err) {
  const el = $(`#${id}-error`);
  if (!el) return;
  if (err) {
    setText(el, `Could not load: ${err.message || err}. Showing the last data received.`);
    el.hidden = false;
  } else {
    el.hidden = true;
  }
}

function setVal(testid, value, text) {
  const el = $(`[data-testid="${testid}"]`);
  el.dataset.value = value === null || value === undefined ? '' : String(value);
  setText(el, text);
  return el;
}

export function renderStats(s) {
  setVal('uptime', s.uptime_seconds, fmtUptime(s.uptime_seconds));
  setVal('total-cycles', s.total_cycles, fmtInt(s.total_cycles));
  setVal('successful-cycles', s.successful_cycles, fmtInt(s.successful_cycles));
  const partial = $('#partial-note');
  partial.hidden = !(isNum(s.partial_cycles) && s.partial_cycles > 0);
  setText(partial, partial.hidden ? '' : `incl. ${fmtInt(s.partial_cycles)} partial (some assets failed)`);
  const failed = setVal('failed-cycles', s.failed_cycles, fmtInt(s.failed_cycles));
  failed.classList.toggle('bad-text', isNum(s.failed_cycles) && s.failed_cycles > 0);
  // with no finished cycle a rate of 0 % would be a lie: say there is none
  const none = s.total_cycles === 0;
  const rate = setVal('success-rate', s.success_rate, none ? '— (no cycles yet)' : fmtPercent(s.success_rate));
  const bar = $('#success-rate-bar');
  setBar(bar, isNum(s.success_rate) ? s.success_rate : 0, 100, fmtPercent(s.success_rate));
  const level = !isNum(s.success_rate) || !s.total_cycles ? 'none'
    : s.success_rate >= 95 ? 'good' : s.success_rate >= 80 ? 'warn' : 'bad';
  bar.dataset.level = level;
  rate.dataset.level = level;
  setVal('avg-duration', s.average_cycle_duration_seconds, fmtDuration(s.average_cycle_duration_seconds));
  setVal('last-duration', s.last_cycle_duration_seconds, fmtDuration(s.last_cycle_duration_seconds));
  setVal('asset-success-rate', s.asset_success_rate, none ? '—' : fmtPercent(s.asset_success_rate));
}

// A success badge, or a failure badge that reveals the error on demand.
export function resultCell(u, openSet, key) {
  if (u.success) {
    return h('span', { class: 'badge badge-ok', dataset: { testid: 'update-result' } }, '✓ OK');
  }
  const det = h('details', { class: 'err-details', dataset: { testid: 'update-result' } },
    h('summary', { class: 'badge badge-bad', title: 'Show the error' }, '✗ Failed'),
    h('p', { class: 'err-text', dataset: { testid: 'update-error' } }, u.error ? String(u.error) : 'No error message recorded.'));
  if (openSet && openSet.has(key)) det.open = true;
  if (openSet) det.addEventListener('toggle', () => (det.open ? openSet.add(key) : openSet.delete(key)));
  return det;
}

const openErrors = new Set();
const names = new Map();   // symbol → asset name, learnt from recent updates

export function assetName(symbol) {
  return names.get(symbol);
}

function updateKey(u) {
  return `${u.cycle_id ?? ''}|${u.symbol}|${u.timestamp}`;
}

export function renderUpdates(body) {
  if (!changed('updates', body)) return;
  const list = Array.isArray(body.updates) ? body.updates : [];
  const tbody = $('#updates-body');
  clear(tbody);
  let failed = 0;
  for (const u of list) {
    if (!u.success) failed++;
    if (u.symbol && u.name) names.set(u.symbol, u.name);
    const key = updateKey(u);
    const dur = isNum(u.duration_ms) ? ` · fetched in ${fmtInt(u.duration_ms)} ms` : '';
    tbody.append(h('tr', { dataset: { testid: 'updates-row', success: String(!!u.success) }, class: u.success ? '' : 'row-bad' },
      h('th', { scope: 'row', class: 'sym', dataset: { testid: 'update-symbol' }, title: u.name || '' }, String(u.symbol ?? '—')),
      h('td', { class: 'col-name' }, String(u.name ?? '')),
      h('td', { title: dur ? dur.slice(3) : null }, timeEl(u.timestamp)),
      h('td', { class: 'num mono' }, u.price === null || u.price === undefined ? h('span', { class: 'muted' }, '—') : fmtPrice(u.price, u.currency)),
      h('td', null, resultCell(u, openErrors, key))));
  }
  $('#updates-empty').hidden = list.length > 0;
  setText($('#updates-summary'), list.length
    ? `last ${fmtInt(list.length)}${failed ? ` · ${fmtInt(failed)} failed` : ' · all succeeded'}`
    : '');
}

function missingText(m) {
  if (!Array.isArray(m) || !m.length) return 'Some positions have no price yet';
  return m.map((x) => (typeof x === 'string' ? x : [x.symbol, x.reason].filter(Boolean).join(': ') || JSON.stringify(x))).join('\n');
}

export function renderPortfolios(body) {
  if (!changed('portfolios', body)) return;
  const list = Array.isArray(body.portfolios) ? body.portfolios : [];
  const tbody = $('#portfolios-body');
  clear(tbody);
  const num = (v) => (v === null || v === undefined || v === '' ? NaN : Number(v));
  for (const p of list) {
    const ret = num(p.total_return);
    const pct = num(p.return_pct);
    const sign = (n) => (n > 0 ? 'pos' : n < 0 ? 'neg' : '');
    const arrow = (n) => (n > 0 ? '▲ ' : n < 0 ? '▼ ' : '');
    tbody.append(h('tr', { dataset: { testid: 'portfolio-row' } },
      h('th', { scope: 'row' }, h('span', { dataset: { testid: 'portfolio-name' } }, String(p.name ?? `#${p.id}`)),
        h('span', { class: 'muted cur' }, ` ${p.currency || ''}`),
        isNum(p.positions) && isNum(p.priced_positions) && p.priced_positions < p.positions
          ? h('span', { class: 'unpriced', title: missingText(p.missing) },
            ` ⚠ ${p.positions - p.priced_positions} of ${p.positions} positions unpriced`)
          : null),
      h('td', { class: 'num mono' }, fmtMoney(num(p.total_value), p.currency)),
      h('td', { class: 'num mono col-opt' }, fmtMoney(num(p.total_invested), p.currency)),
      h('td', { class: `num mono col-opt ${sign(ret)}` }, Number.isFinite(ret) ? arrow(ret) + fmtMoney(ret, p.currency) : '—'),
      h('td', { class: `num mono ${sign(pct)}` }, Number.isFinite(pct) ? arrow(pct) + fmtPercent(pct) : '—'),
      h('td', { class: 'col-opt' }, timeEl(p.calculated_at))));
  }
  $('#portfolios-empty').hidden = list.length > 0;
}
