// dom.js — tiny DOM helpers. API data only ever reaches the page through
// textContent and attributes, never through HTML parsing.

import { fmtClock, fmtExact, fmtRelative, parseTime } from './format.js';

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

// h('td', {class: 'x', dataset: {testid: 'y'}}, 'text', childNode, …)
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c !== undefined && c !== null) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

// Sets text only when it changed, so aria-live regions announce real changes.
export function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}

// A <time> showing "14:32:05 · 3 min ago" with the exact time on hover;
// tick() keeps the relative part fresh.
export function timeEl(value, { clock = true, rel = true } = {}) {
  const d = parseTime(value);
  if (!d) return h('span', { class: 'muted' }, '—');
  const el = h('time', { datetime: d.toISOString(), title: fmtExact(d), class: 'ts' });
  if (clock) el.append(h('span', { class: 'ts-clock' }, fmtClock(d)));
  if (rel) el.append(h('span', { class: 'ts-rel', dataset: { rel: String(d.getTime()) } }, fmtRelative(d)));
  return el;
}

export function refreshRelativeTimes(root = document) {
  const now = Date.now();
  for (const el of root.querySelectorAll('[data-rel]')) {
    setText(el, fmtRelative(new Date(Number(el.dataset.rel)), now));
  }
}

// A horizontal bar (div.bar > div.bar-fill) whose fill width is set through
// the CSSOM, which the Content-Security-Policy allows (style="" would not be).
export function setBar(bar, value, max, label) {
  const pct = max > 0 ? Math.max(0, Math.min(100, (value / max) * 100)) : 0;
  const fill = bar.querySelector('.bar-fill');
  fill.style.width = `${pct}%`;
  bar.setAttribute('aria-valuemin', '0');
  bar.setAttribute('aria-valuemax', String(max));
  bar.setAttribute('aria-valuenow', String(value));
  if (label) bar.setAttribute('aria-valuetext', label);
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

// True when body differs from what was last rendered under this key: an
// unchanged answer is not re-rendered, so focus, hover and text selection
// in a list survive the auto-refresh.
const lastRendered = new Map();
export function changed(key, body) {
  const sig = JSON.stringify(body);
  if (lastRendered.get(key) === sig) return false;
  lastRendered.set(key, sig);
  return true;
}
