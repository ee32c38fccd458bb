// format.js — pure formatting helpers for the dashboard (no DOM, no state).
// Numbers use the browser's locale; words are English like the rest of the UI.

const intFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

export function isNum(v) {
  return typeof v === 'number' && Number.isFinite(v);
}

export function fmtInt(n) {
  return isNum(n) ? intFmt.format(n) : '—';
}

export function fmtFixed(n, digits) {
  return isNum(n)
    ? n.toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '—';
}

export function fmtPercent(n, digits = 2) {
  return isNum(n) ? `${fmtFixed(n, digits)} %` : '—';
}

// A duration given in seconds: 0.42 → "420 ms", 1.837 → "1.84 s",
// 75 → "1 min 15 s", 3720 → "1 h 2 min".
export function fmtDuration(sec) {
  if (!isNum(sec)) return '—';
  if (sec < 0) sec = 0;
  if (sec < 1) return `${Math.round(sec * 1000)} ms`;
  if (sec < 60) return `${fmtFixed(sec, sec < 10 ? 2 : 1)} s`;
  return fmtUptime(sec);
}

// Uptime in human form, two most significant units: "3 d 4 h", "4 h 12 min",
// "12 min 5 s", "45 s".
export function fmtUptime(sec) {
  if (!isNum(sec)) return '—';
  let s = Math.max(0, Math.floor(sec));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min ${s} s`;
  return `${s} s`;
}

// An interval in minutes (may be fractional when the daemon runs every few
// seconds): 10 → "every 10 min", 0.5 → "every 30 s", 90 → "every 1 h 30 min".
export function fmtInterval(minutes) {
  if (!isNum(minutes) || minutes <= 0) return '—';
  const sec = Math.round(minutes * 60);
  if (sec < 60) return `every ${sec} s`;
  if (sec % 60) return `every ${fmtUptime(sec)}`;
  const m = sec / 60;
  if (m < 60) return `every ${m} min`;
  return `every ${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

// Countdown "m:ss" / "h:mm:ss".
export function fmtCountdown(sec) {
  sec = Math.max(0, Math.round(sec));
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  const ss = String(s).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function parseTime(v) {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

// "just now", "42 s ago", "3 min ago", "2 h ago", "5 d ago" (or "in …").
export function fmtRelative(date, now = Date.now()) {
  if (!date) return '—';
  const diff = Math.round((now - date.getTime()) / 1000);
  const abs = Math.abs(diff);
  let txt;
  if (abs < 5) return 'just now';
  if (abs < 60) txt = `${abs} s`;
  else if (abs < 3600) txt = `${Math.floor(abs / 60)} min`;
  else if (abs < 86400) txt = `${Math.floor(abs / 3600)} h`;
  else txt = `${Math.floor(abs / 86400)} d`;
  return diff >= 0 ? `${txt} ago` : `in ${txt}`;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

function tzOffset(d) {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  return `UTC${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

// Exact local time, unambiguous: "2026-11-21 14:32:05.123 UTC+01:00".
export function fmtExact(d) {
  if (!d) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)} ${tzOffset(d)}`;
}

// Short local time: "14:32:05" today, "Nov 20 14:32" otherwise.
export function fmtClock(d, now = new Date()) {
  if (!d) return '—';
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (d.toDateString() === now.toDateString()) return time;
  const day = d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  return `${day} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const priceFmts = new Map();

// A price with its currency; small prices keep significant digits.
export function fmtPrice(price, currency) {
  const n = typeof price === 'string' ? Number(price) : price;
  if (!isNum(n)) return '—';
  const cur = typeof currency === 'string' && /^[A-Z]{3}$/.test(currency) ? currency : null;
  const abs = Math.abs(n);
  const digits = abs >= 1 || abs === 0 ? 2 : Math.min(8, 2 - Math.floor(Math.log10(abs)) + 1);
  const key = `${cur}|${digits}`;
  let f = priceFmts.get(key);
  if (!f) {
    const opts = { minimumFractionDigits: Math.min(2, digits), maximumFractionDigits: digits };
    try {
      f = new Intl.NumberFormat(undefined, cur ? { ...opts, style: 'currency', currency: cur } : opts);
    } catch {
      f = new Intl.NumberFormat(undefined, opts);
    }
    priceFmts.set(key, f);
  }
  return f.format(n);
}

export function fmtMoney(v, currency) {
  return fmtPrice(v, currency);
}

export function capitalize(s) {
  return typeof s === 'string' && s ? s[0].toUpperCase() + s.slice(1) : '—';
}
