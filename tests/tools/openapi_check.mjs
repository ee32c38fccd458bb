#!/usr/bin/env node
// openapi_check — checks recorded API answers against api/openapi.json.
//
//   node tests/tools/openapi_check.mjs api/openapi.json answers.jsonl
//
// answers.jsonl: one answer a line, {"method", "path" (the URL path, query
// allowed), "status", "content_type", "body"}, as tests/lib.sh's
// openapi_record writes them. For each answer: the path and method must be
// an operation of the document (a literal path before a templated one), the
// status one of its responses (exactly, else its "4XX"/"5XX" range), the
// content type one that response lists (no content: no body), and a JSON
// body valid against the response's schema (ajv, JSON Schema 2020-12, the
// dialect of OpenAPI 3.1, with formats). Prints one "ok - …" line per
// operation and status seen, "not ok - …" with the reason for each answer
// that does not match, and exits 0 (the caller counts the lines). Set
// aside, and said so: libmicrohttpd's own 414/431 and CORS preflights.
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const [docPath, answersPath] = process.argv.slice(2);
if (!docPath || !answersPath) {
  console.log('not ok - usage: openapi_check.mjs OPENAPI.json ANSWERS.jsonl');
  process.exit(0);
}
const doc = JSON.parse(readFileSync(docPath, 'utf8'));
const ajv = new Ajv2020({ strict: true, allErrors: true, strictTypes: false });
addFormats(ajv);
// The components as one schema of their own, so "#/components/schemas/X"
// references resolve inside it.
ajv.addKeyword({ keyword: 'components' });
ajv.addSchema({ $id: 'openapi', components: doc.components }, 'openapi');

function rewriteRefs(node) {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node && typeof node === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `openapi${v}` : rewriteRefs(v);
    }
    return out;
  }
  return node;
}

// Templates: "/api/fetcher/portfolios/{id}" → a regular expression; literal
// paths are tried first, then those with fewer parameters.
const ops = Object.entries(doc.paths).map(([tpl, item]) => {
  const params = (tpl.match(/\{[^}]+\}/g) || []).length;
  const re = new RegExp('^' + tpl.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+') + '$');
  return { tpl, item, params, re };
}).sort((a, b) => a.params - b.params);

// Every field an answer carries must be in the document. The document
// leaves its objects open (a client may meet a field a newer API adds), so
// for the check they are closed: the component $refs are inlined, and each
// object schema that lists its properties (or an allOf that builds one)
// gets unevaluatedProperties: false unless it says otherwise. What shares
// its place in the answer stays open — an allOf's members, the oneOf/anyOf
// branches beside listed properties — since the closed schema above judges
// them together; a property's, item's or map value's schema is closed on
// its own. Objects without listed properties (a log's context) stay free.
function inline(node, stack = []) {
  if (Array.isArray(node)) return node.map((n) => inline(n, stack));
  if (!node || typeof node !== 'object') return node;
  if (typeof node.$ref === 'string' && node.$ref.startsWith('#/components/schemas/')) {
    const name = node.$ref.slice('#/components/schemas/'.length);
    if (stack.includes(name)) throw new Error(`recursive schema ${name}: cannot inline it`);
    const target = inline(doc.components.schemas[name], [...stack, name]);
    const { $ref, ...rest } = node;
    if (Object.keys(rest).length === 0) return target;
    const out = inline(rest, stack);
    out.allOf = [...(out.allOf || []), target];
    return out;
  }
  const out = {};
  for (const [k, v] of Object.entries(node)) out[k] = inline(v, stack);
  return out;
}
const MAPS = new Set(['properties', 'patternProperties', '$defs', 'dependentSchemas']);
const HERE = new Set(['oneOf', 'anyOf', 'then', 'else']);
function close(node, open = false) {
  if (Array.isArray(node)) return node.map((n) => close(n, open));
  if (!node || typeof node !== 'object') return node;
  const shaped = node.properties !== undefined || node.allOf !== undefined;
  const says = node.additionalProperties !== undefined || node.unevaluatedProperties !== undefined;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (MAPS.has(k)) out[k] = Object.fromEntries(Object.entries(v).map(([n, s]) => [n, close(s)]));
    else if (k === 'allOf' || k === 'if' || k === 'not') out[k] = close(v, true);
    else if (HERE.has(k)) out[k] = close(v, open || shaped || says);
    else if (k === 'items' || k === 'prefixItems' || k === 'contains' || k === 'additionalProperties' ||
             k === 'unevaluatedItems' || k === 'propertyNames') out[k] = close(v);
    else out[k] = v;
  }
  if (!open && shaped && !says) out.unevaluatedProperties = false;
  return out;
}

const compiled = new Map();
function validatorFor(key, schema) {
  if (!compiled.has(key)) compiled.set(key, ajv.compile(rewriteRefs(close(inline(schema)))));
  return compiled.get(key);
}

const seen = new Map();   // "GET /tpl 200" → count
const failures = [];
const count = (key) => seen.set(key, (seen.get(key) || 0) + 1);
const lines = readFileSync(answersPath, 'utf8').split('\n').filter((l) => l.trim());
for (const line of lines) {
  let a;
  try { a = JSON.parse(line); } catch { failures.push(`an unreadable record: ${line.slice(0, 80)}`); continue; }
  const method = String(a.method || 'GET').toLowerCase() === 'head' ? 'get' : String(a.method || 'GET').toLowerCase();
  const path = String(a.path).split('?')[0];
  const shown = String(a.path).length > 100 ? `${String(a.path).slice(0, 100)}…` : String(a.path);
  const what = `${a.method} ${shown} → ${a.status}`;
  // Not the API's answers: libmicrohttpd itself refuses a request line or
  // headers too long for a connection's memory (414, 431; its own HTML),
  // and CORS preflights (OPTIONS) are the cross-site rules' (README,
  // "Security"), for every path alike.
  if (a.status === 414 || a.status === 431) { count(`${a.method} (any path) ${a.status} from libmicrohttpd`); continue; }
  if (String(a.method).toUpperCase() === 'OPTIONS') { count(`OPTIONS (CORS preflight) ${a.status}`); continue; }
  const op = ops.find((o) => o.re.test(path) && o.item[method]);
  if (!op) {
    // A path the document has with another method: the API must have said 405.
    const known = ops.find((o) => o.re.test(path));
    if (known && a.status === 405) { seen.set(`${a.method} ${known.tpl} 405`, (seen.get(`${a.method} ${known.tpl} 405`) || 0) + 1); continue; }
    if (!known && a.status === 404) { seen.set(`${a.method} (unknown path) 404`, (seen.get(`${a.method} (unknown path) 404`) || 0) + 1); continue; }
    failures.push(`${what}: no operation ${method.toUpperCase()} for this path in the document`);
    continue;
  }
  const responses = op.item[method].responses || {};
  const st = String(a.status);
  const resp = responses[st] || responses[`${st[0]}XX`] || responses.default;
  if (!resp) { failures.push(`${what}: status ${st} is not a response of ${method.toUpperCase()} ${op.tpl}`); continue; }
  const key = `${method.toUpperCase()} ${op.tpl} ${st}`;
  const ctype = String(a.content_type || '').split(';')[0].trim().toLowerCase();
  const body = a.body ?? '';
  if (!resp.content) {
    if (body.length > 0 && method !== 'head') { failures.push(`${what}: the document says no body, got ${body.length} bytes`); continue; }
    seen.set(key, (seen.get(key) || 0) + 1);
    continue;
  }
  if (String(a.method).toUpperCase() === 'HEAD') { seen.set(key, (seen.get(key) || 0) + 1); continue; }
  const media = resp.content[ctype];
  if (!media) { failures.push(`${what}: content type '${ctype}' is not one of ${Object.keys(resp.content).join(', ')}`); continue; }
  if (ctype === 'application/json') {
    let value;
    try { value = JSON.parse(body); } catch { failures.push(`${what}: the body is not JSON`); continue; }
    const validate = validatorFor(`${key} ${ctype}`, media.schema || {});
    if (!validate(value)) {
      const extra = (e) => e.params?.unevaluatedProperty ?? e.params?.additionalProperty;
      const errs = [...new Set(validate.errors.map((e) => `${e.instancePath || '(body)'} ${e.message}` +
        (extra(e) !== undefined ? ` ('${extra(e)}', not in the document)` : '')))].slice(0, 6).join('; ');
      failures.push(`${what}: does not match the schema: ${errs}`);
      continue;
    }
  }
  seen.set(key, (seen.get(key) || 0) + 1);
}
for (const [key, n] of [...seen.entries()].sort()) console.log(`ok - openapi: ${key} matches the document (${n} answer${n === 1 ? '' : 's'})`);
for (const f of failures) console.log(`not ok - openapi: ${f}`);
console.log(`# openapi: ${lines.length} answers, ${seen.size} operation/status pairs, ${failures.length} not matching`);
