// panels.js — statistics tiles, the recent-updates table and the portfolios
// table. Each render takes the API body and rebuilds its part of the page.

import { $, h, changed, clear, setText, setBar, timeEl } from './dom.js';
import {
  capitalize, fmtClock, fmtDuration, fmtExact, fmtInt, fmtMoney, fmtPercent, fmtPrice, fmtUptime, isNum, parseTime,
} from './format.js';

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
  // cycles that found nothing tracked are not cycles of work (migration 012)
  const empty = $('#empty-note');
  empty.hidden = !(isNum(s.empty_cycles) && s.empty_cycles > 0);
  setText(empty, empty.hidden ? '' : `+ ${fmtInt(s.empty_cycles)} empty (nothing tracked)`);
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
  const sign = (n) => (n > 0 ? 'pos' : n < 0 ? 'neg' : '');
  const arrow = (n) => (n > 0 ? '▲ ' : n < 0 ? '▼ ' : '');
  let usdTotal = 0;
  let usdAll = true;
  for (const p of list) {
    const ret = num(p.total_return);
    const pct = num(p.return_pct);
    const day = num(p.day_change);
    const dayPct = num(p.day_change_pct);
    const usd = num(p.value_usd);
    if (Number.isFinite(usd)) usdTotal += usd; else usdAll = false;
    const periods = [['week', 'Week'], ['month', 'Month'], ['year', 'Year']]
      .filter(([k]) => Number.isFinite(num(p[`${k}_change_pct`])))
      .map(([k, w]) => `${w}: ${fmtPercent(num(p[`${k}_change_pct`]))} (${fmtMoney(num(p[`${k}_change`]), p.currency)})`);
    tbody.append(h('tr', { dataset: { testid: 'portfolio-row', id: String(p.id ?? '') } },
      h('th', { scope: 'row' }, h('span', { dataset: { testid: 'portfolio-name' } }, String(p.name ?? `#${p.id}`)),
        isNum(p.positions) && isNum(p.priced_positions) && p.priced_positions < p.positions
          ? h('span', { class: 'unpriced', title: missingText(p.missing) },
            ` ⚠ ${p.positions - p.priced_positions} of ${p.positions} positions unpriced`)
          : null),
      h('td', { class: 'num mono', dataset: { testid: 'portfolio-value', value: p.total_value ?? '' } },
        fmtMoney(num(p.total_value), p.currency),
        p.currency && p.currency !== 'USD' && Number.isFinite(usd)
          ? h('span', { class: 'sub', dataset: { testid: 'portfolio-usd' } }, `≈ ${fmtMoney(usd, 'USD')}`) : null),
      h('td', { class: 'cur-cell', dataset: { testid: 'portfolio-currency' } }, String(p.currency || '—')),
      h('td', { class: 'num mono col-opt', dataset: { testid: 'portfolio-invested' } }, fmtMoney(num(p.total_invested), p.currency)),
      h('td', { class: `num mono ${sign(ret)}`, dataset: { testid: 'portfolio-return' } },
        Number.isFinite(ret) ? arrow(ret) + fmtMoney(ret, p.currency) : '—',
        Number.isFinite(pct) ? h('span', { class: 'sub', dataset: { testid: 'portfolio-return-pct' } }, fmtPercent(pct)) : null),
      h('td', { class: `num mono ${sign(day)}`, dataset: { testid: 'portfolio-day' }, title: periods.join('\n') || null },
        Number.isFinite(day) ? arrow(day) + fmtMoney(day, p.currency) : h('span', { class: 'muted', title: 'No value from a day ago yet' }, '—'),
        Number.isFinite(dayPct) ? h('span', { class: 'sub' }, fmtPercent(dayPct)) : null),
      h('td', { class: 'col-opt' }, timeEl(p.calculated_at))));
  }
  $('#portfolios-empty').hidden = list.length > 0;
  setText($('#portfolios-summary'), list.length > 1 && usdAll ? `total ≈ ${fmtMoney(usdTotal, 'USD')}` : '');
}

// ---- queue and providers (/queue; the status's queue is the same data) -----

const QUEUE_LABELS = [
  ['in_flight', 'In flight'], ['queued', 'Queued'], ['deduplicated', 'Deduplicated'],
  ['upstream_requests', 'Upstream requests'], ['retries', 'Retries'], ['errors', 'Errors'],
  ['completed', 'Completed'], ['rate_limited', 'Rate limited (429)'],
];

function fmtBytes(n) {
  if (!isNum(n)) return '—';
  if (n < 1024) return `${fmtInt(n)} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1048576).toFixed(1)} MB`;
}

export function renderQueue(body) {
  if (!changed('queue', body)) return;
  const q = body && typeof body.queue === 'object' && body.queue ? body.queue : {};
  const dl = $('#queue-counters');
  clear(dl);
  const tile = (key, label, text, title) => h('div', { class: 'qtile', dataset: { key } },
    h('dt', null, label), h('dd', { dataset: { testid: `queue-${key}`, value: q[key] ?? '' }, title: title || null }, text));
  if (isNum(q.cache_hits) && isNum(q.cache_misses)) {
    const n = q.cache_hits + q.cache_misses;
    const rate = n ? (q.cache_hits / n) * 100 : null;
    const el = tile('cache', 'Cache hit rate', rate === null ? '—' : `${Math.round(rate)} %`,
      `${fmtInt(q.cache_hits)} hits, ${fmtInt(q.cache_misses)} misses`);
    el.querySelector('dd').dataset.value = rate === null ? '' : String(rate);
    dl.append(el);
  }
  for (const [k, label] of QUEUE_LABELS) {
    if (k in q) dl.append(tile(k, label, fmtInt(q[k])));
  }
  if (isNum(q.keys_per_request)) dl.append(tile('keys_per_request', 'Symbols per request', q.keys_per_request.toFixed(1)));
  if (isNum(q.bytes_received)) dl.append(tile('bytes_received', 'Received', fmtBytes(q.bytes_received)));

  const up = parseTime(body.updated_at);
  setText($('#queue-summary'), [body.phase ? capitalize(body.phase) : '', up ? `reported ${fmtClock(up)}` : ''].filter(Boolean).join(' · '));
  $('#queue-summary').title = up ? `${body.instance_id || ''} ${fmtExact(up)}`.trim() : '';

  renderSourcesNote(q.sources);
  const provs = Array.isArray(q.providers) ? q.providers : Array.isArray(body.providers) ? body.providers : null;
  const tbody = $('#providers-body');
  clear(tbody);
  $('#providers-wrap').hidden = !provs;
  $('#providers-missing').hidden = !!provs;
  if (!provs) return;
  const ms = (v) => (isNum(v) ? `${v < 10 ? v.toFixed(1) : fmtInt(v)} ms` : '—');
  for (const p of provs) {
    // "degraded": some of its last requests (10 at most, 15 min) failed;
    // "OK" only when none did
    const st = ['ok', 'degraded', 'paused', 'down', 'offline'].includes(p.state) ? p.state : 'unknown';
    const until = parseTime(p.paused_until);
    const word = st === 'paused' ? `Paused (429)${until ? ` until ${fmtClock(until)}` : ''}`
      : st === 'degraded' && isNum(p.recent_failed) && isNum(p.recent_requests)
        ? `Degraded (${fmtInt(p.recent_failed)}/${fmtInt(p.recent_requests)} failed)`
        : capitalize(st === 'ok' ? 'OK' : st);
    const why = until ? fmtExact(until) : p.pause_reason || (p.last_error ? `last error: ${p.last_error}` : null);
    // the last finished cycle's rows: its share of the assets, failovers
    // in and out (totals since fetcherd started in the tooltip)
    const share = isNum(p.share_last_cycle) ? `${Math.round(p.share_last_cycle * 100)} %` : '—';
    const fo = isNum(p.failovers_in_last_cycle)
      ? `${fmtInt(p.failovers_in_last_cycle)} / ${fmtInt(p.failovers_out_last_cycle)}` : '—';
    const foTitle = isNum(p.failovers_in)
      ? `last cycle: ${fmtInt(p.failovers_in_last_cycle ?? 0)} assets came from another source, ${fmtInt(p.failovers_out_last_cycle ?? 0)} went to the next; since start: ${fmtInt(p.failovers_in)} in, ${fmtInt(p.failovers_out)} out`
      : null;
    tbody.append(h('tr', { dataset: { testid: 'provider-row', name: String(p.name ?? ''), state: st } },
      h('th', { scope: 'row', class: 'sym' }, String(p.name ?? '—')),
      h('td', null, h('span', { class: `badge prov-${st}`, dataset: { testid: 'provider-state' }, title: why }, word)),
      h('td', { class: 'num mono', dataset: { testid: 'provider-share', value: p.share_last_cycle ?? '' },
        title: isNum(p.served_last_cycle) ? `${fmtInt(p.served_last_cycle)} assets served in the last cycle` : null }, share),
      h('td', { class: 'num mono', dataset: { testid: 'provider-failovers', in: p.failovers_in_last_cycle ?? '', out: p.failovers_out_last_cycle ?? '' }, title: foTitle }, fo),
      h('td', { class: 'num mono' }, fmtInt(p.in_flight)),
      h('td', { class: 'num mono col-opt' }, fmtInt(p.queued)),
      h('td', { class: 'num mono' }, fmtInt(p.requests)),
      h('td', { class: `num mono${p.errors ? ' neg' : ''}` }, fmtInt(p.errors)),
      h('td', { class: 'num mono col-opt' }, isNum(p.rate_per_minute) ? `${fmtInt(p.rate_per_minute)}/min` : '—'),
      h('td', { class: 'num mono', dataset: { testid: 'provider-latency' } }, `${ms(p.latency_p50_ms)} / ${ms(p.latency_p95_ms)}`)));
  }
}

// A class with fewer than two usable sources (stocks without
// TWELVEDATA_API_KEY) has no failover and no cross-check: say so.
const CLASS_WORDS = { stock: 'Stocks', crypto: 'Crypto', fx: 'Exchange rates' };
function renderSourcesNote(classes) {
  const el = $('#sources-note');
  const lone = Array.isArray(classes) ? classes.filter((c) => c && isNum(c.usable) && c.usable < 2) : [];
  el.hidden = lone.length === 0;
  setText(el, lone.map((c) => `${CLASS_WORDS[c.class] || c.class} have no second source${c.note ? ` (${String(c.note).replace(/^no second source: /, '')})` : ''}.`).join(' '));
}
