// assets.js — every tracked asset: last price, a sparkline of its last
// day's prices (hand-made SVG; every sparkline from ONE request,
// /history?range=1d), age of the price, last error with "Retry now";
// sortable columns, search by symbol (or name), deep link #assets?q=AAPL;
// a click on the symbol opens the asset (detail.js).

import { apiGet } from './api.js';
import { $, h, changed, clear, setText, svg, timeEl } from './dom.js';
import { fmtExact, fmtInt, fmtPrice, isNum, parseTime } from './format.js';
import { retryButton } from './actions.js';
import { untrackButton } from './start.js';
import { openAsset } from './detail.js';

const SHOW = 100;          // rows drawn at once; "Show more" adds as many
const SPARK_POINTS = 30;

let assets = [];
let byProvider = new Map();   // symbol → provider (for the error grouping)
let sort = { key: 'symbol', dir: 1 };
let query = '';
let onlyFailing = false;
let shown = SHOW;
let intervalMin = 10;

export function providerOf(symbol) {
  return byProvider.get(symbol);
}

export function setAssetsInterval(minutes) {
  if (isNum(minutes) && minutes > 0) intervalMin = minutes;
}

export function failing(a) {
  if (!a.last_error) return false;
  const e = parseTime(a.last_error_at);
  const ok = parseTime(a.last_price_update);
  return !ok || !e || e.getTime() >= ok.getTime();
}

const num = (v) => (v === null || v === undefined || v === '' ? NaN : Number(v));

const SORTS = {
  symbol: (a, b) => String(a.symbol).localeCompare(String(b.symbol)),
  name: (a, b) => String(a.name ?? '').localeCompare(String(b.name ?? '')),
  price: (a, b) => (num(a.price) || 0) - (num(b.price) || 0),
  age: (a, b) => (parseTime(b.last_price_update)?.getTime() ?? 0) - (parseTime(a.last_price_update)?.getTime() ?? 0),
  error: (a, b) => Number(failing(b)) - Number(failing(a)) || String(a.last_error ?? '').localeCompare(String(b.last_error ?? '')),
};

export function initAssets() {
  const input = $('#asset-search');
  input.addEventListener('input', () => {
    query = input.value.trim();
    shown = SHOW;
    writeHash();
    draw();
  });
  $('#asset-failing').addEventListener('change', (e) => {
    onlyFailing = e.target.checked;
    shown = SHOW;
    draw();
  });
  for (const btn of document.querySelectorAll('#assets thead button[data-sort]')) {
    btn.addEventListener('click', () => {
      const k = btn.dataset.sort;
      sort = sort.key === k ? { key: k, dir: -sort.dir } : { key: k, dir: 1 };
      draw();
    });
  }
  $('#assets-more').addEventListener('click', () => {
    shown += SHOW;
    draw();
  });
}

// "#assets?q=AAPL" → the search; true when the hash is about assets.
export function applyAssetsHash(hash) {
  const m = /^#assets(?:\?(.*))?$/.exec(hash || '');
  if (!m) return false;
  if (m[1] === undefined) {
    // a plain "#assets" (the nav link) keeps the current search
    if (query) writeHash();
    return true;
  }
  const params = new URLSearchParams(m[1] || '');
  query = (params.get('q') || '').trim();
  $('#asset-search').value = query;
  shown = SHOW;
  if (assets.length) draw();
  return true;
}

function writeHash() {
  const q = query ? `?${new URLSearchParams({ q: query })}` : '';
  history.replaceState(null, '', `#assets${q}`);
}

export function renderAssets(body) {
  if (!changed('assets', body)) return;
  const list = Array.isArray(body.assets) ? body.assets : [];
  assets = list.filter((a) => a.tracked !== false);
  byProvider = new Map(list.map((a) => [a.symbol, a.provider]));
  draw();
}

function matches(a) {
  if (onlyFailing && !failing(a)) return false;
  if (!query) return true;
  const q = query.toUpperCase();
  return String(a.symbol).toUpperCase().includes(q) || String(a.name ?? '').toUpperCase().includes(q);
}

function draw() {
  const tbody = $('#assets-body');
  // keep focus on a retry button that is being redrawn
  const focused = document.activeElement && tbody.contains(document.activeElement)
    ? document.activeElement.closest('tr')?.dataset.symbol : null;
  clear(tbody);
  const cmp = SORTS[sort.key] || SORTS.symbol;
  const rows = assets.filter(matches).sort((a, b) => cmp(a, b) * sort.dir || SORTS.symbol(a, b));
  const bad = assets.filter(failing).length;
  for (const th of document.querySelectorAll('#assets thead th[data-col]')) {
    th.setAttribute('aria-sort', th.dataset.col === sort.key ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none');
  }
  const staleMs = intervalMin * 60000 * 2.5;
  const now = Date.now();
  for (const a of rows.slice(0, shown)) {
    const fail = failing(a);
    const upd = parseTime(a.last_price_update);
    const stale = !upd || now - upd.getTime() > staleMs;
    const spark = h('td', { class: 'spark-cell', dataset: { symbol: a.symbol } });
    fillSpark(spark, a);
    let errCell;
    if (fail) {
      errCell = h('td', { class: 'err-cell' },
        h('span', { class: 'err-text', dataset: { testid: 'asset-error' }, title: a.last_error_at ? fmtExact(parseTime(a.last_error_at)) : '' }, String(a.last_error)),
        retryButton([a.symbol], { testid: 'asset-retry' }));
    } else {
      errCell = h('td', { class: 'muted', title: a.last_error ? `Earlier error (since recovered): ${a.last_error}` : '' }, '—');
    }
    tbody.append(h('tr', { class: fail ? 'row-bad' : '', dataset: { testid: 'asset-row', symbol: a.symbol, failing: String(fail) } },
      h('th', { scope: 'row', class: 'sym' }, h('button', { type: 'button', class: 'link', title: `Open ${a.symbol}: chart, sources, market`, dataset: { testid: 'asset-open' }, onclick: () => openAsset(a) },
        h('span', { dataset: { testid: 'asset-symbol' } }, String(a.symbol))),
        sourceLine(a), crosscheckBadge(a), untrackButton(a.symbol)),
      h('td', { class: 'col-name' }, String(a.name ?? '')),
      h('td', { class: 'num mono', dataset: { testid: 'asset-price', value: a.price ?? '' } },
        a.price === null || a.price === undefined ? h('span', { class: 'muted' }, '—') : fmtPrice(a.price, a.price_currency || a.currency)),
      spark,
      h('td', { class: stale ? 'age stale' : 'age', dataset: { testid: 'asset-age' } },
        upd ? timeEl(a.last_price_update, { clock: false }) : h('span', { class: 'muted' }, 'never')),
      errCell));
  }
  if (focused) {
    const b = tbody.querySelector(`tr[data-symbol="${CSS.escape(focused)}"] button`);
    if (b) b.focus();
  }
  const total = rows.length;
  $('#assets-empty').hidden = total > 0;
  setText($('#assets-empty'), assets.length ? `No asset matches “${query}”.` : 'No tracked assets.');
  $('#assets-more').hidden = total <= shown;
  setText($('#assets-summary'), `${fmtInt(assets.length)} tracked${bad ? ` · ${fmtInt(bad)} failing` : ''}` +
    (total !== assets.length ? ` · ${fmtInt(total)} shown by the filter` : ''));
  $('#assets-summary').dataset.failing = String(bad);
  observeSparks();
}

// ---- sources --------------------------------------------------------------

// Which source priced it last (another than its own provider: a failover
// or its own order), and whether it has a second source at all.
function sourceLine(a) {
  const src = a.source || a.provider || '';
  const other = a.source && a.provider && a.source !== a.provider;
  const lone = a.source_count === 1;
  return h('span', { class: `prov${other ? ' prov-other' : ''}`, dataset: { testid: 'asset-source', source: src, lone: String(lone) },
    title: other ? `priced by ${src}; its own provider is ${a.provider}` : null },
  src, lone ? h('span', { class: 'lone', dataset: { testid: 'asset-lone' }, title: 'no second source knows this asset: no failover, no cross-check' }, ' · only source') : null);
}

// The newest cross-check, when its sources disagreed.
function crosscheckBadge(a) {
  const x = a.crosscheck;
  if (!x || x.disagree !== true || !Array.isArray(x.answers)) return null;
  const parts = x.answers.filter((v) => v && isNum(v.price))
    .map((v) => `${v.source} ${fmtPrice(v.price, v.currency)}`);
  const kept = x.kept ? `; kept ${x.kept}'s price` : '';
  const when = a.crosscheck_at ? ` (${fmtExact(parseTime(a.crosscheck_at))})` : '';
  const diff = isNum(x.diff_pct) ? `${x.diff_pct.toFixed(1)} %` : '';
  return h('span', { class: 'xc-bad', dataset: { testid: 'asset-crosscheck', diff: x.diff_pct ?? '', kept: x.kept ?? '' },
    title: `Sources disagree by ${diff}, more than ${x.limit_pct} %: ${parts.join(', ')}${kept}${when}` },
  `⚠ sources differ ${diff}`);
}

// ---- sparklines -----------------------------------------------------------

let sparks = new Map();   // symbol → [{t, p}], oldest first
let sparkKeyAll = '';     // the asset updates the sparklines were asked for
let sparkLoading = false;

function fillSpark(cell, a) {
  const pts = sparks.get(a.symbol);
  clear(cell);
  if (pts) cell.append(drawSpark(pts, a));
  else cell.append(h('span', { class: 'spark-empty', 'aria-hidden': 'true' }, ''));
}

// One request for every sparkline, asked again only when a price moved.
function observeSparks() {
  const key = assets.map((a) => `${a.symbol}|${a.last_price_update || ''}`).join(',');
  if (key === sparkKeyAll || sparkLoading) return;
  sparkLoading = true;
  apiGet(`/history?range=1d&points=${SPARK_POINTS}`)
    .then((b) => {
      sparks = new Map(Object.entries(b.history || {}).map(([sym, pts]) => [sym,
        pts.map(([t, p]) => ({ t: parseTime(t), p: num(p) })).filter((x) => x.t && Number.isFinite(x.p))]));
      sparkKeyAll = key;
      for (const cell of document.querySelectorAll('#assets-body .spark-cell')) {
        const a = assets.find((x) => x.symbol === cell.dataset.symbol);
        if (a) fillSpark(cell, a);
      }
    })
    .catch(() => { sparkKeyAll = ''; })
    .finally(() => { sparkLoading = false; });
}

function drawSpark(points, a) {
  const W = 96;
  const H = 24;
  const cur = a.price_currency || a.currency;
  if (points.length < 2) {
    return h('span', { class: 'spark-empty muted', title: points.length ? 'Only one price so far' : 'No price history yet' },
      points.length ? '·' : '—');
  }
  const ps = points.map((x) => x.p);
  const min = Math.min(...ps);
  const max = Math.max(...ps);
  const span = max - min || 1;
  const t0 = points[0].t.getTime();
  const tspan = points[points.length - 1].t.getTime() - t0 || 1;
  const xy = points.map((x) => [
    2 + ((x.t.getTime() - t0) / tspan) * (W - 4),
    max === min ? H / 2 : 2 + (1 - (x.p - min) / span) * (H - 4),
  ]);
  const first = ps[0];
  const last = ps[ps.length - 1];
  const dir = last > first ? 'up' : last < first ? 'down' : 'flat';
  const change = first ? ((last - first) / first) * 100 : 0;
  const label = `${a.symbol}: ${points.length} prices, from ${fmtPrice(first, cur)} to ${fmtPrice(last, cur)}` +
    ` (${change >= 0 ? '+' : ''}${change.toFixed(2)} %), low ${fmtPrice(min, cur)}, high ${fmtPrice(max, cur)}`;
  const end = xy[xy.length - 1];
  return svg('svg', { class: `spark spark-${dir}`, width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, 'data-testid': 'sparkline', 'data-points': points.length },
    svg('title', null, label),
    svg('polyline', { points: xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ') }),
    svg('circle', { cx: end[0].toFixed(1), cy: end[1].toFixed(1), r: 2 }));
}

// After a cycle or a refresh: prices changed, sparklines must be asked again
// (their key is the asset's last update, so only changed ones are).
export function assetsChanged() {
  observeSparks();
}
