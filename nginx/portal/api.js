/* postdesk portal — talking to /api/, as window.postdeskApi: api() (the one
 * fetch helper), ApiError, and the session it runs in (the signed-in agent,
 * the CSRF token, answers cached for the session).
 * Loaded after dom.js; app.js explains the order of the scripts.
 */
'use strict';

(function () {
  const session = {
    agent: null,        // {id, username, display_name, role}
    csrf: null,         // csrf_token of the session
    cache: new Map(),   // path -> data of GETs that do not change (cached())
  };
  // What a 401 does (app.js: back to the login page).
  let unauthorised = () => {};

  class ApiError extends Error {
    constructor(status, problem, headers) {
      super((problem && (problem.detail || problem.title)) || 'HTTP ' + status);
      this.status = status;
      this.problem = problem || {};
      this.headers = headers || null;
      this.handled = false;
    }
  }

  function genericTitle(status) {
    if (status >= 500) return 'The server had a problem (' + status + ')';
    if (status === 404) return 'Not found';
    if (status === 403) return 'Not allowed';
    return 'Request failed (' + status + ')';
  }

  function requestInit(method, body, opts) {
    const headers = { Accept: 'application/json, application/problem+json' };
    const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
    if (method !== 'GET' && method !== 'HEAD') {
      headers['Content-Type'] = 'application/json';
      if (session.csrf) headers['X-CSRF-Token'] = session.csrf;
      if (opts.ifMatch) headers['If-Match'] = opts.ifMatch;
      if (body !== undefined) init.body = JSON.stringify(body);
    }
    return init;
  }

  async function readBody(res, method, opts) {
    if (res.status === 204 || method === 'HEAD') return null;
    const text = await res.text().catch(() => '');
    const ct = res.headers.get('Content-Type') || '';
    if (opts.text && res.ok) return text; // a text/plain answer (a message's whole body)
    if (text && /json/i.test(ct)) {
      try { return JSON.parse(text); } catch (e) { return null; }
    }
    return null;
  }

  function failure(res, data, opts) {
    const problem = data && typeof data === 'object' && !Array.isArray(data)
      ? data
      : { title: genericTitle(res.status), detail: 'The server returned an unexpected answer.' };
    if (!problem.request_id) {
      const rid = res.headers.get('X-Request-Id');
      if (rid) problem.request_id = rid;
    }
    const err = new ApiError(res.status, problem, res.headers);
    if (res.status === 401 && !opts.allow401) {
      err.handled = true;
      unauthorised();
    }
    return err;
  }

  /* api(method, path, body?, {allow401, ifMatch, text}) -> {status, data, headers}
   * ifMatch: the ETag the change is based on (a 412 means it changed elsewhere).
   * Throws ApiError for any non-2xx answer (problem+json parsed when present).
   * A 401 ends the local session and goes to the login page unless allow401. */
  async function api(method, path, body, opts) {
    opts = opts || {};
    let res;
    try {
      res = await fetch(path, requestInit(method, body, opts));
    } catch (e) {
      throw new ApiError(0, {
        title: 'Cannot reach postdesk',
        detail: 'The server did not answer. Check your connection, then try again.',
      });
    }
    const data = await readBody(res, method, opts);
    if (res.ok) return { status: res.status, data, headers: res.headers };
    throw failure(res, data, opts);
  }

  /* Seconds from a Retry-After header (delta-seconds or HTTP-date). */
  function retryAfterSeconds(headers) {
    const v = headers && headers.get('Retry-After');
    if (!v) return null;
    if (/^\s*\d+\s*$/.test(v)) return parseInt(v, 10);
    const t = Date.parse(v);
    if (Number.isNaN(t)) return null;
    return Math.max(0, Math.ceil((t - Date.now()) / 1000));
  }

  /* The answer of POST or GET /api/session. */
  function accept(data) {
    if (!data || !data.agent) throw new ApiError(500, { title: 'Unexpected answer from the server' });
    session.agent = data.agent;
    session.csrf = data.csrf_token || null;
  }

  function clear() {
    session.agent = null;
    session.csrf = null;
    session.cache.clear();
  }

  /* GET path once per session (e.g. /api/azure-setup); failures are not kept. */
  async function cached(path) {
    if (session.cache.has(path)) return session.cache.get(path);
    const r = await api('GET', path);
    session.cache.set(path, r.data || {});
    return session.cache.get(path);
  }

  window.postdeskApi = Object.freeze({
    ApiError, api, retryAfterSeconds, accept, clear, cached,
    agent: () => session.agent,
    onUnauthorised(fn) { unauthorised = fn; },
  });
}());
