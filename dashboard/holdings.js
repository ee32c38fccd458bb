// holdings.js — your portfolios, editable: create, rename, change the
// currency, delete; add, edit and remove positions; import positions from a
// CSV file with a preview of every line before anything is written. The
// chosen portfolio's view shows the valuation fetcherd last calculated
// (value, invested, return, changes), says when it is older than the last
// edit, and "Recalculate now" starts a cycle (trigger-update), after which
// the daemon recalculates every portfolio.
//
// REST: /api/fetcher/portfolios[/{id}[/positions[/{symbol}]|/import]]
// (api/ep_portfolios.c). Refusals are shown next to the form that caused
// them, in the API's words (its 400s name the field).

import { ApiError, apiDelete, apiGet, apiPatch, apiPost } from './api.js';
import { writeError } from './actions.js';
import { $, clear, h, setText, timeEl } from './dom.js';
import { fmtInt, fmtMoney, fmtPercent, fmtPrice } from './format.js';

let onChanged = () => {};
let list = [];           // GET /portfolios
let current = null;      // GET /portfolios/{id}
let selected = null;     // id
let lastCalc = '';
let recalcAsked = 0;     // when "Recalculate now" was pressed (ms), 0 = not waiting

export function initHoldings({ onChanged: changed }) {
  onChanged = changed;
  $('#pf-create').addEventListener('submit', (ev) => { ev.preventDefault(); create(); });
  $('#pf-select').addEventListener('change', () => select(Number($('#pf-select').value)));
  $('#pf-rename').addEventListener('submit', (ev) => { ev.preventDefault(); rename(); });
  $('#pf-delete').addEventListener('click', remove);
  $('#pf-recalc').addEventListener('click', recalc);
  $('#pos-add').addEventListener('submit', (ev) => { ev.preventDefault(); addPosition(); });
  $('#csv-preview').addEventListener('click', () => importCsv(false));
  $('#csv-commit').addEventListener('click', () => importCsv(true));
  $('#csv-cancel').addEventListener('click', () => showPreview(null));
  $('#csv-file').addEventListener('change', async () => {
    const f = $('#csv-file').files[0];
    if (f) $('#csv-text').value = await f.text();
  });
}

function say(id, state, text) {
  const el = $(`#${id}`);
  el.dataset.state = state;
  setText(el, text);
}

function reason(e, what) {
  if (e instanceof ApiError && (e.status === 400 || e.status === 409 || e.status === 404)) return e.message;
  return writeError(e, what);
}

// From every /portfolios answer (app.js): the list, and the chosen
// portfolio again when its valuation moved.
export function renderHoldings(body) {
  list = Array.isArray(body.portfolios) ? body.portfolios : [];
  const sel = $('#pf-select');
  const keep = selected;
  clear(sel);
  for (const p of list) sel.append(h('option', { value: String(p.id) }, `${p.name} (${p.currency})`));
  $('#pf-chooser').hidden = list.length === 0;
  if (!list.some((p) => p.id === keep)) selected = list.length ? list[0].id : null;
  if (selected !== null) sel.value = String(selected);
  const mine = list.find((p) => p.id === selected);
  const calc = mine ? `${mine.id}|${mine.calculated_at}` : '';
  if (selected === null) {
    current = null;
    draw();
  } else if (!current || current.id !== selected || calc !== lastCalc) {
    lastCalc = calc;
    load();
  }
}

async function refreshList() {
  try {
    renderHoldings(await apiGet('/portfolios'));
  } catch { /* the panel's own error line says it on the next poll */ }
}

async function load() {
  if (selected === null) return;
  try {
    current = await apiGet(`/portfolios/${selected}`);
  } catch (e) {
    current = null;
    say('pf-feedback', 'error', reason(e, 'read the portfolio'));
  }
  draw();
}

async function select(id) {
  selected = id;
  showPreview(null);
  await load();
}

async function create() {
  const name = $('#pf-name').value.trim();
  const currency = $('#pf-currency').value.trim().toUpperCase();
  try {
    const p = await apiPost('/portfolios', { json: currency ? { name, currency } : { name } });
    say('pf-create-feedback', 'done', `✓ Portfolio “${p.name}” created (${p.currency}).`);
    $('#pf-name').value = '';
    selected = p.id;
    current = p;
    await refreshList();
    onChanged();
  } catch (e) {
    say('pf-create-feedback', 'error', reason(e, 'create a portfolio'));
  }
}

async function rename() {
  if (!current) return;
  const body = {};
  const name = $('#pf-newname').value.trim();
  const cur = $('#pf-newcurrency').value.trim().toUpperCase();
  if (name && name !== current.name) body.name = name;
  if (cur && cur !== current.currency) body.currency = cur;
  if (!Object.keys(body).length) { say('pf-feedback', 'idle', 'Nothing to change.'); return; }
  try {
    current = await apiPatch(`/portfolios/${current.id}`, { json: body });
    say('pf-feedback', 'done', `✓ Saved: “${current.name}” in ${current.currency}.`);
    await refreshList();
    draw();
  } catch (e) {
    say('pf-feedback', 'error', reason(e, 'change the portfolio'));
  }
}

async function remove() {
  if (!current) return;
  const btn = $('#pf-delete');
  if (btn.dataset.state !== 'confirm') {
    btn.dataset.state = 'confirm';
    setText(btn, `Delete “${current.name}” and its positions?`);
    return;
  }
  btn.dataset.state = 'idle';
  setText(btn, 'Delete portfolio');
  try {
    await apiDelete(`/portfolios/${current.id}`);
    say('pf-feedback', 'done', `✓ Portfolio “${current.name}” deleted.`);
    current = null;
    selected = null;
    await refreshList();
    onChanged();
  } catch (e) {
    say('pf-feedback', 'error', reason(e, 'delete the portfolio'));
  }
}

async function recalc() {
  try {
    await apiPost('/trigger-update');
    recalcAsked = Date.now();
    say('pf-feedback', 'busy', 'A cycle was started; the values follow when it has recalculated the portfolios.');
    onChanged();
  } catch (e) {
    say('pf-feedback', 'error', reason(e, 'start a cycle'));
  }
}

async function addPosition() {
  if (!current) return;
  const symbol = $('#pos-symbol').value.trim();
  const body = { symbol, quantity: $('#pos-qty').value.trim(), average_buy_price: $('#pos-price').value.trim() };
  const cur = $('#pos-currency').value.trim().toUpperCase();
  if (cur) body.currency = cur;
  try {
    await apiPost(`/portfolios/${current.id}/positions`, { json: body });
    say('pos-feedback', 'done', `✓ ${symbol} added.`);
    for (const id of ['pos-symbol', 'pos-qty', 'pos-price', 'pos-currency']) $(`#${id}`).value = '';
    await load();
  } catch (e) {
    say('pos-feedback', 'error', reason(e, 'add a position'));
  }
}

async function editPosition(pos, row) {
  const qty = row.querySelector('[data-field="quantity"]').value.trim();
  const price = row.querySelector('[data-field="price"]').value.trim();
  const body = {};
  if (qty !== String(pos.quantity)) body.quantity = qty;
  if (price !== String(pos.average_buy_price)) body.average_buy_price = price;
  if (!Object.keys(body).length) return;
  try {
    await apiPatch(`/portfolios/${current.id}/positions/${encodeURIComponent(pos.symbol)}`, { json: body });
    say('pos-feedback', 'done', `✓ ${pos.symbol} changed.`);
    await load();
  } catch (e) {
    say('pos-feedback', 'error', `${pos.symbol}: ${reason(e, 'change a position')}`);
  }
}

async function removePosition(pos) {
  try {
    await apiDelete(`/portfolios/${current.id}/positions/${encodeURIComponent(pos.symbol)}`);
    say('pos-feedback', 'done', `✓ ${pos.symbol} removed.`);
    await load();
  } catch (e) {
    say('pos-feedback', 'error', `${pos.symbol}: ${reason(e, 'remove a position')}`);
  }
}

async function importCsv(commit) {
  if (!current) return;
  const csv = $('#csv-text').value;
  const json = commit ? { csv, commit: true, skip_invalid: true } : { csv };
  try {
    const r = await apiPost(`/portfolios/${current.id}/import`, { json });
    if (commit) {
      showPreview(null);
      say('csv-feedback', 'done', `✓ Imported ${fmtInt(r.imported)} position${r.imported === 1 ? '' : 's'}` +
        (r.invalid ? `; ${fmtInt(r.invalid)} bad line${r.invalid === 1 ? '' : 's'} skipped` : '') + '.');
      $('#csv-text').value = '';
      await load();
    } else {
      showPreview(r);
      say('csv-feedback', r.invalid ? 'warn' : 'done', `Preview: ${fmtInt(r.valid)} line${r.valid === 1 ? '' : 's'} to import` +
        (r.replaces ? ` (${fmtInt(r.replaces)} replacing a position)` : '') +
        (r.invalid ? `, ${fmtInt(r.invalid)} with an error (skipped on import)` : '') + '. Nothing is written yet.');
    }
  } catch (e) {
    if (!commit) showPreview(null);
    say('csv-feedback', 'error', reason(e, 'import positions'));
  }
}

function showPreview(r) {
  const wrap = $('#csv-result');
  const tbody = $('#csv-lines');
  clear(tbody);
  wrap.hidden = !r;
  if (!r) { setText($('#csv-feedback'), ''); return; }
  for (const l of r.lines) {
    const bad = l.status === 'error';
    tbody.append(h('tr', { class: bad ? 'row-bad' : '', dataset: { testid: 'csv-line', status: l.status, line: String(l.line) } },
      h('td', { class: 'num' }, String(l.line)),
      h('th', { scope: 'row', class: 'sym' }, String(l.symbol || '')),
      h('td', { class: 'num mono' }, bad ? '' : String(l.quantity)),
      h('td', { class: 'num mono' }, bad ? '' : fmtPrice(l.average_buy_price, l.currency || null)),
      h('td', { dataset: { testid: 'csv-line-status' } }, bad ? h('span', { class: 'err-text' }, `✗ ${l.error}`)
        : h('span', { class: 'badge badge-ok' }, l.status === 'replace' ? 'replaces the position' : 'new position'))));
  }
  const btn = $('#csv-commit');
  btn.disabled = r.valid === 0;
  setText(btn, `Import ${fmtInt(r.valid)} valid line${r.valid === 1 ? '' : 's'}${r.invalid ? `, skip ${fmtInt(r.invalid)}` : ''}`);
}

function valueCell(label, testid, text, cls) {
  return h('div', null, h('dt', null, label), h('dd', { class: cls || '', dataset: { testid } }, text));
}

function draw() {
  $('#pf-detail').hidden = !current;
  if (!current) return;
  const p = current;
  $('#pf-newname').value = p.name;
  $('#pf-newcurrency').value = p.currency;
  const v = p.valuation;
  const kv = $('#pf-values');
  clear(kv);
  const sign = (n) => (n > 0 ? 'pos' : n < 0 ? 'neg' : '');
  if (v) {
    kv.append(
      valueCell('Value', 'pf-value', fmtMoney(v.total_value, v.currency), 'big'),
      valueCell('Invested', 'pf-invested', fmtMoney(v.total_invested, v.currency)),
      valueCell('Return', 'pf-return', `${fmtMoney(v.total_return, v.currency)} (${fmtPercent(v.return_pct)})`, sign(v.total_return)),
      valueCell('Day', 'pf-day', v.day_change === null ? '—' : `${fmtMoney(v.day_change, v.currency)} (${fmtPercent(v.day_change_pct)})`, sign(v.day_change)),
      valueCell('Week', 'pf-week', v.week_change === null ? '—' : fmtPercent(v.week_change_pct), sign(v.week_change)),
      valueCell('Calculated', 'pf-calculated', timeEl(v.calculated_at)));
    $('#pf-value-box').dataset.value = String(v.total_value);
    if (recalcAsked && !v.stale && Date.parse(v.calculated_at) >= recalcAsked - 2000) {
      recalcAsked = 0;
      say('pf-feedback', 'done', '✓ Recalculated.');
    }
  } else {
    delete $('#pf-value-box').dataset.value;
  }
  const stale = $('#pf-stale');
  stale.hidden = !(v === null ? p.positions.length > 0 : v.stale);
  setText(stale, v === null
    ? 'Not valued yet: fetcherd values portfolios after each cycle. “Recalculate now” starts one.'
    : 'Changed since these values were calculated: “Recalculate now” brings them up to date.');
  $('#pf-value-box').dataset.stale = String(!stale.hidden);
  const tbody = $('#pos-body');
  clear(tbody);
  for (const pos of p.positions) {
    const row = h('tr', { dataset: { testid: 'position-row', symbol: pos.symbol } });
    row.append(
      h('th', { scope: 'row', class: 'sym' }, String(pos.symbol), h('span', { class: 'prov col-name' }, String(pos.name ?? ''))),
      h('td', { class: 'num' }, h('input', { class: 'num-input', 'aria-label': `Quantity of ${pos.symbol}`, 'data-field': 'quantity', value: String(pos.quantity), inputmode: 'decimal' })),
      h('td', { class: 'num' }, h('input', { class: 'num-input', 'aria-label': `Average buy price of ${pos.symbol}`, 'data-field': 'price', value: String(pos.average_buy_price), inputmode: 'decimal' }),
        h('span', { class: 'sub' }, String(pos.currency))),
      h('td', { class: 'num mono col-opt' }, pos.price === null ? h('span', { class: 'muted' }, 'no price yet') : fmtPrice(pos.price, pos.price_currency)),
      h('td', { class: 'num mono', dataset: { testid: 'position-value' } }, pos.value === null ? '—' : fmtMoney(pos.value, pos.price_currency)),
      h('td', { class: 'act' },
        h('button', { type: 'button', class: 'btn btn-small', dataset: { testid: 'position-save' }, onclick: () => editPosition(pos, row) }, 'Save'),
        h('button', { type: 'button', class: 'btn btn-small btn-quiet', dataset: { testid: 'position-remove' }, 'aria-label': `Remove ${pos.symbol}`, onclick: () => removePosition(pos) }, 'Remove')));
    tbody.append(row);
  }
  $('#pos-empty').hidden = p.positions.length > 0;
}
