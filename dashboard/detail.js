// detail.js — one asset, opened from its row: a price chart (1D intraday,
// 1M/1Y/5Y daily closes from /assets/{symbol}/history; plain SVG), its
// sources, its market (open or closed, next open) and its recent updates.

import { apiGet } from './api.js';
import { $, h, clear, setText, svg, timeEl } from './dom.js';
import { fmtExact, fmtPrice, parseTime } from './format.js';

let current = null;   // the asset shown
let range = '1m';

export function initDetail() {
  const dlg = $('#asset-detail');
  if (!dlg) return;
  $('#ad-close').addEventListener('click', () => dlg.close());
  for (const b of dlg.querySelectorAll('[data-range]')) {
    b.addEventListener('click', () => { range = b.dataset.range; loadChart(); });
  }
}

export function openAsset(a) {
  const dlg = $('#asset-detail');
  if (!dlg) return;
  current = a;
  setText($('#ad-title'), `${a.symbol} · ${a.name ?? ''}`);
  facts(a);
  if (!dlg.open) dlg.showModal();
  loadChart();
  loadUpdates();
}

function fact(label, value, testid) {
  return h('div', null, h('dt', null, label), h('dd', { dataset: { testid } }, value ?? '—'));
}

function facts(a) {
  const dl = $('#ad-facts');
  clear(dl);
  const src = a.sources && a.sources.length ? a.sources.join(' → ') : `${a.provider} (its class's list)`;
  let market = '—';
  if (a.market_state) {
    const next = parseTime(a.next_open);
    market = a.market_state === 'open' ? 'Open' : a.market_state === 'closed'
      ? `Closed${next ? ` · opens ${fmtExact(next)}` : ''}` : a.market_state;
  }
  const hist = a.history_backfilled_at ? `${a.history_days ?? '?'} daily closes since ${String(a.history_backfilled_at).slice(0, 10)}`
    : a.history_error ? `backfill failed: ${a.history_error}` : 'not backfilled yet';
  dl.append(
    fact('Sources', `${src} · as ${a.provider_symbol}`, 'ad-sources'),
    fact('Market', market, 'ad-market'),
    fact('Exchange', [a.provider_exchange, a.exchange_timezone].filter(Boolean).join(' · ') || '—', 'ad-exchange'),
    fact('Refresh', a.staleness ? `every ${a.staleness}` : 'by its type', 'ad-staleness'),
    fact('History', hist, 'ad-history'));
}

async function loadChart() {
  const box = $('#ad-chart');
  const a = current;
  for (const b of document.querySelectorAll('#asset-detail [data-range]')) b.setAttribute('aria-pressed', String(b.dataset.range === range));
  box.dataset.state = 'loading';
  try {
    const q = range === '1d' ? 'range=1d' : `range=${range}&interval=1d`;
    const body = await apiGet(`/assets/${encodeURIComponent(a.symbol)}/history?${q}`);
    if (a !== current) return;
    const pts = (body.points || []).map((p) => ({ t: parseTime(p.day || p.time), p: Number(p.close ?? p.price) }))
      .filter((x) => x.t && Number.isFinite(x.p));
    clear(box);
    box.append(chart(pts, body.currency || a.currency, a.symbol));
    box.dataset.state = 'done';
    box.dataset.points = String(pts.length);
  } catch (e) {
    clear(box);
    box.append(h('p', { class: 'panel-error' }, `No chart: ${e.message || e}`));
    box.dataset.state = 'error';
  }
}

function chart(pts, cur, sym) {
  const W = 640;
  const H = 220;
  const L = 8;
  if (pts.length < 2) return h('p', { class: 'muted' }, pts.length ? 'Only one price in this range.' : 'No prices in this range yet.');
  const ps = pts.map((x) => x.p);
  const min = Math.min(...ps);
  const max = Math.max(...ps);
  const t0 = pts[0].t.getTime();
  const tspan = pts[pts.length - 1].t.getTime() - t0 || 1;
  const y = (p) => (max === min ? H / 2 : L + (1 - (p - min) / (max - min)) * (H - 2 * L - 16));
  const xy = pts.map((x) => `${(L + ((x.t.getTime() - t0) / tspan) * (W - 2 * L)).toFixed(1)},${y(x.p).toFixed(1)}`);
  const first = ps[0];
  const last = ps[ps.length - 1];
  const dir = last > first ? 'up' : last < first ? 'down' : 'flat';
  const day = (d) => d.toISOString().slice(0, range === '1d' ? 16 : 10).replace('T', ' ');
  const label = `${sym} ${range.toUpperCase()}: ${pts.length} prices from ${fmtPrice(first, cur)} to ${fmtPrice(last, cur)}, low ${fmtPrice(min, cur)}, high ${fmtPrice(max, cur)}`;
  return svg('svg', { class: `chart spark-${dir}`, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, 'data-testid': 'asset-chart-svg', 'data-points': pts.length },
    svg('title', null, label),
    svg('polyline', { points: xy.join(' ') }),
    svg('text', { x: L, y: 12, class: 'chart-label' }, fmtPrice(max, cur)),
    svg('text', { x: L, y: H - 22, class: 'chart-label' }, fmtPrice(min, cur)),
    svg('text', { x: L, y: H - 4, class: 'chart-label' }, day(pts[0].t)),
    svg('text', { x: W - L, y: H - 4, class: 'chart-label', 'text-anchor': 'end' }, day(pts[pts.length - 1].t)));
}

async function loadUpdates() {
  const ul = $('#ad-updates');
  const a = current;
  try {
    const b = await apiGet(`/recent-updates?symbol=${encodeURIComponent(a.symbol)}&limit=10`);
    if (a !== current) return;
    clear(ul);
    for (const u of b.updates || []) {
      ul.append(h('li', { class: u.success ? '' : 'row-bad', dataset: { testid: 'ad-update' } }, timeEl(u.timestamp, { clock: true }),
        ' ', u.success ? fmtPrice(u.price, u.currency) : `failed: ${u.error ?? ''}`));
    }
    if (!ul.childElementCount) ul.append(h('li', { class: 'muted' }, 'No updates yet.'));
  } catch (e) {
    clear(ul);
    ul.append(h('li', { class: 'panel-error' }, String(e.message || e)));
  }
}
