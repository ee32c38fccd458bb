// api.js — same-origin JSON calls to fetcher-api, with a timeout, the
// optional Bearer token (kept in localStorage) and errors as ApiError.

const BASE = '/api/fetcher';
const TOKEN_KEY = 'fetcherd.apiToken';
const TIMEOUT_MS = 10000;

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;   // HTTP status, 0 when the request never got an answer
    this.body = body;
  }
}

export function getToken() {
  try { return localStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}

export function setToken(token) {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: the token lives for this request only */ }
}

async function call(method, path, { timeout = TIMEOUT_MS, json } = {}) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeout);
  const headers = { Accept: 'application/json' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, cache: 'no-store', signal: ctl.signal };
  // Every write says it is JSON, a bodiless one too: the API refuses writes
  // of any other type (415), because those are what other sites' pages can
  // send without asking (see "Security" in the README).
  if (method !== 'GET') headers['Content-Type'] = 'application/json';
  if (json !== undefined) init.body = JSON.stringify(json);
  let res;
  try {
    res = await fetch(BASE + path, init);
  } catch (e) {
    throw new ApiError(0, ctl.signal.aborted ? 'the API did not answer in time' : 'the API is unreachable');
  } finally {
    clearTimeout(timer);
  }
  let body = null;
  const text = await res.text().catch(() => '');
  if (text) {
    try { body = JSON.parse(text); } catch { body = null; }
  }
  if (!res.ok) {
    let msg = body && typeof body.error === 'string' ? body.error : `HTTP ${res.status}`;
    if (body && body.parameter) msg += ` (${body.parameter})`;
    throw new ApiError(res.status, msg, body);
  }
  if (res.status === 204 && body === null) return {};
  if (body === null || typeof body !== 'object') {
    throw new ApiError(res.status, 'the API answered with something that is not JSON');
  }
  return body;
}

export const apiGet = (path, opts) => call('GET', path, opts);
export const apiPost = (path, opts) => call('POST', path, opts);
export const apiPatch = (path, opts) => call('PATCH', path, opts);
export const apiDelete = (path, opts) => call('DELETE', path, opts);
