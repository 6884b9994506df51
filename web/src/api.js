// Talking to the hub's REST API (docs/api.md): the signed-in token, the
// Authorization header it needs, and errors that carry the API's own message.

const KEY = 'allscene.token';

export function getToken() {
  return sessionStorage.getItem(KEY) || '';
}
export function setToken(token) {
  sessionStorage.setItem(KEY, token.trim());
}
export function clearToken() {
  sessionStorage.removeItem(KEY);
}

// The admin token is a bearer token; a service SAS token is sent under its
// own scheme, as Azure's service SDKs send it.
export function authorization(token = getToken()) {
  const t = token.trim();
  if (t.startsWith('SharedAccessSignature')) return t;
  return `Bearer ${t}`;
}

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

// The API says what went wrong in `error` (native), `message` (services)
// or `Message` (Azure's shape); fall back to the raw text.
function messageOf(body, text, status) {
  if (body && typeof body === 'object') {
    const m = body.error || body.message || body.Message;
    if (m) return body.code ? `${body.code}: ${m}` : String(m);
  }
  return text || `HTTP ${status}`;
}

export const enc = encodeURIComponent;

// request('POST', '/api/v1/users', {...}) -> {status, data, headers};
// throws ApiError for a status >= 400 or a network failure (status 0).
export async function request(method, path, body, { headers = {}, token } = {}) {
  const h = { Authorization: authorization(token), ...headers };
  const init = { method, headers: h };
  if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, `the hub did not answer (${e.message})`, null);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && !token) window.dispatchEvent(new Event('allscene:unauthorized'));
    throw new ApiError(res.status, messageOf(data, text, res.status), data);
  }
  return { status: res.status, data, headers: res.headers };
}

export const get = (path, opts) => request('GET', path, undefined, opts).then((r) => r.data);
export const post = (path, body, opts) => request('POST', path, body ?? {}, opts).then((r) => r.data);

// A cloud service operation (docs/services.md), acting for `user` if given.
export function service(name, operation, body = {}, user) {
  const q = user ? `?user=${enc(user)}` : '';
  return post(`/api/v1/services/${enc(name)}/${enc(operation)}${q}`, body);
}

// Every twin through the query API, following continuation tokens, so the
// device list gets batteries without one request per device.
export async function allTwins() {
  const twins = [];
  let continuation = '';
  for (let page = 0; page < 100; page++) {
    const headers = { 'x-ms-max-item-count': '1000' };
    if (continuation) headers['x-ms-continuation'] = continuation;
    const r = await request('POST', '/api/v1/query', { query: 'SELECT * FROM devices' }, { headers });
    twins.push(...(Array.isArray(r.data) ? r.data : []));
    continuation = r.headers.get('x-ms-continuation') || '';
    if (!continuation) break;
  }
  return twins;
}
