// The kjq dashboard: plain JavaScript, no framework, no third-party code.
//
// Rules this file keeps:
// - Whatever comes from a job (ids, names, reasons, messages, log lines, Events, data) reaches
//   the page through textContent or attribute values, never as HTML.
// - The token lives in this tab only (sessionStorage): never in a URL, never in storage that
//   outlives the tab.
// - Live updates come from GET /api/v1/events read with fetch() (EventSource cannot send an
//   Authorization header), resumed with Last-Event-ID after a drop.
'use strict';

(() => {
  const TOKEN_KEY = 'kjq-token';
  const STATES = ['Queued', 'Submitted', 'Scheduled', 'Running', 'Succeeded', 'Failed', 'Cancelled'];
  const FINAL = new Set(['Succeeded', 'Failed', 'Cancelled']);
  const PAGE_SIZE = 50;

  let token = sessionStorage.getItem(TOKEN_KEY) || '';
  let role = '';
  let current = null; // the view on screen: {refresh(), dispose?()}
  let mountSeq = 0;

  // ---- small DOM helpers (text only) ----
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  const $ = (id) => document.getElementById(id);
  function svg(tag, attrs) {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    return e;
  }

  function fmtTime(v) {
    if (!v) return '';
    const d = new Date(typeof v === 'number' ? v : Date.parse(v));
    if (isNaN(d)) return '';
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }
  function fmtDuration(ms) {
    if (ms === null || ms === undefined || ms < 0) return '';
    const s = Math.floor(ms / 1000);
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
    if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
    return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
  }
  const ms = (v) => (v ? Date.parse(v) : 0);
  const stateBadge = (s) => el('span', { class: `state state-${String(s).toLowerCase()}`, text: s });

  // ---- the API ----
  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }
  async function api(path, options = {}) {
    const headers = Object.assign({ Authorization: `Bearer ${token}` }, options.headers || {});
    const res = await fetch(path, Object.assign({}, options, { headers, cache: 'no-store' }));
    if (res.status === 401) {
      signOut('The token was refused. Sign in again.');
      throw new ApiError(401, 'signed out');
    }
    const type = res.headers.get('Content-Type') || '';
    const body = type.startsWith('application/json') ? await res.json() : await res.text();
    if (!res.ok) {
      const msg = body && body.error ? body.error.message : `HTTP ${res.status}`;
      throw new ApiError(res.status, msg);
    }
    return body;
  }

  // GET /api/v1/jobs. The page asks with the history parameters (states, reason, since, until,
  // idPrefix, order, cursor); a server that refuses one of them (400) is asked again with only
  // queue, state, origin, limit and continue, and the page filters what it got.
  const BASIC = new Set(['queue', 'state', 'origin', 'limit', 'continue']);
  async function listJobs(params) {
    try {
      return await api(`/api/v1/jobs?${params}`);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 400) throw e;
      const basic = new URLSearchParams([...params].filter(([k]) => BASIC.has(k)));
      return api(`/api/v1/jobs?${basic}`);
    }
  }
  // Times go to the API as RFC 3339 in UTC, as GET /api/v1/jobs expects for since and until.
  const apiTime = (msValue) => new Date(msValue).toISOString();

  // ---- sign-in ----
  async function signIn(candidate) {
    const res = await fetch('/api/v1/whoami', { headers: { Authorization: `Bearer ${candidate}` }, cache: 'no-store' });
    if (!res.ok) throw new ApiError(res.status, res.status === 401 ? 'That token is not valid here.' : `HTTP ${res.status}`);
    const who = await res.json();
    token = candidate;
    role = who.role;
    sessionStorage.setItem(TOKEN_KEY, token);
    return who;
  }
  function signOut(message) {
    token = '';
    role = '';
    sessionStorage.removeItem(TOKEN_KEY);
    live.stop();
    if (current && current.dispose) current.dispose();
    current = null;
    $('view').replaceChildren();
    $('nav').hidden = true;
    $('signout').hidden = true;
    $('who').textContent = '';
    $('signin').hidden = false;
    $('signin-error').textContent = message || '';
    $('token').value = '';
    $('token').focus();
  }
  function showSignedIn() {
    $('signin').hidden = true;
    $('nav').hidden = false;
    $('signout').hidden = false;
    $('who').textContent = role === 'operator' ? 'operator' : 'viewer (read only)';
    live.start();
    route();
  }

  // ---- live updates: text/event-stream over fetch ----
  const live = (() => {
    let lastId = '';
    let controller = null;
    let running = false;
    let retryMs = 2000;
    let timer = null;
    const status = (text, cls) => {
      const s = $('live');
      s.textContent = text;
      s.className = `live ${cls}`;
    };
    function dispatch(event) {
      if (event.id !== undefined) lastId = event.id;
      if (event.type === 'job' || event.type === 'queue' || event.type === 'reset') {
        let data = null;
        try {
          data = JSON.parse(event.data);
        } catch (_) {
          data = null;
        }
        changed(event.type, data);
      }
    }
    async function connect() {
      controller = new AbortController();
      const headers = { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' };
      if (lastId) headers['Last-Event-ID'] = lastId;
      try {
        const res = await fetch('/api/v1/events', { headers, signal: controller.signal, cache: 'no-store' });
        if (res.status === 401) return signOut('The token was refused. Sign in again.');
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        status('live', 'on');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        let event = { data: [] };
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let nl;
          while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
            if (line === '') {
              if (event.data.length || event.type) {
                dispatch({ id: event.id, type: event.type || 'message', data: event.data.join('\n') });
              } else if (event.id !== undefined) {
                lastId = event.id;
              }
              event = { data: [] };
              continue;
            }
            if (line.startsWith(':')) continue; // a heartbeat
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            let val = colon < 0 ? '' : line.slice(colon + 1);
            if (val.startsWith(' ')) val = val.slice(1);
            if (field === 'data') event.data.push(val);
            else if (field === 'event') event.type = val;
            else if (field === 'id') event.id = val;
            else if (field === 'retry' && /^\d+$/.test(val)) retryMs = Number(val);
          }
        }
      } catch (e) {
        if (!running) return;
      }
      if (!running) return;
      status('reconnecting', 'off');
      timer = setTimeout(connect, retryMs);
    }
    return {
      start() {
        if (running) return;
        running = true;
        status('connecting', 'off');
        connect();
      },
      stop() {
        running = false;
        lastId = '';
        clearTimeout(timer);
        if (controller) controller.abort();
        status('', 'off');
      },
    };
  })();

  // A change arrived: the view on screen refreshes, at most every `every` ms (250; the overview,
  // which reads the last day's jobs, 750): a burst of a thousand changes is one refresh, and no
  // change waits longer than that.
  let refreshTimer = null;
  let lastRefresh = 0;
  function changed(type, data) {
    if (current && current.onEvent) current.onEvent(type, data);
    if (refreshTimer) return;
    const every = (current && current.every) || 250;
    const wait = Math.max(0, every - (Date.now() - lastRefresh));
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      lastRefresh = Date.now();
      if (!current) return;
      const key = focusKey(document.activeElement);
      current.refresh().then(() => {
        // A refresh replaces elements: a keyboard user keeps their place.
        if (key && (!document.activeElement || document.activeElement === document.body)) {
          const again = document.querySelector(key);
          if (again) again.focus();
        }
      }).catch(showError);
    }, wait);
  }
  function focusKey(e) {
    if (!e || e === document.body || !$('view').contains(e)) return null;
    if (e.id) return `#${CSS.escape(e.id)}`;
    if (e.dataset.key) return `[data-key="${CSS.escape(e.dataset.key)}"]`;
    if (e.tagName === 'A' && e.getAttribute('href')) return `a[href="${CSS.escape(e.getAttribute('href'))}"]`;
    return null;
  }

  function showError(e) {
    if (e instanceof ApiError && e.status === 401) return;
    const box = $('view').querySelector('.view-error');
    if (box) box.textContent = e.message || String(e);
  }

  // ---- routing: #/, #/jobs?..., #/jobs/<id>, #/queues ----
  function parseHash() {
    const h = location.hash.replace(/^#/, '') || '/';
    const q = h.indexOf('?');
    const path = q < 0 ? h : h.slice(0, q);
    const params = new URLSearchParams(q < 0 ? '' : h.slice(q + 1));
    return { path, params };
  }
  function route() {
    if (!token) return;
    const { path, params } = parseHash();
    if (current && current.dispose) current.dispose();
    const seq = ++mountSeq;
    let view;
    let name;
    const m = path.match(/^\/jobs\/([^/]+)$/);
    if (m) {
      name = 'jobs';
      view = jobView(decodeURIComponent(m[1]));
    } else if (path === '/jobs') {
      name = 'jobs';
      view = jobsView(params);
    } else if (path === '/queues') {
      name = 'queues';
      view = queuesView();
    } else {
      name = 'overview';
      view = overviewView();
    }
    for (const a of $('nav').querySelectorAll('a')) {
      if (a.dataset.view === name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    current = view;
    $('view').replaceChildren(view.root);
    view.refresh().catch((e) => {
      if (seq === mountSeq) showError(e);
    });
  }

  function table(headers, rows, caption) {
    const t = el('table', {}, caption ? el('caption', { text: caption }) : null);
    t.append(el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col', text: h })))));
    const body = el('tbody');
    for (const r of rows) body.append(r);
    t.append(body);
    return el('div', { class: 'table-wrap' }, t);
  }
  const jobLink = (id) => el('a', { href: `#/jobs/${encodeURIComponent(id)}`, text: id, class: 'mono' });

  // ---- Overview ----
  function overviewView() {
    const queuesBox = el('div');
    const failuresBox = el('div');
    const chartBox = el('div', { class: 'chart' });
    const root = el('section', { 'aria-labelledby': 'h-overview' },
      el('h1', { id: 'h-overview', text: 'Overview' }),
      el('p', { class: 'view-error error', role: 'alert' }),
      el('h2', { text: 'Queues' }), queuesBox,
      el('h2', { text: 'Starts and ends, last 6 hours' }), chartBox,
      el('h2', { text: 'Latest failures' }), failuresBox);
    async function refresh() {
      const now = Date.now();
      const day = now - 86400e3;
      const [queues, recent] = await Promise.all([
        api('/api/v1/queues'),
        listJobs(new URLSearchParams({ order: 'newest', since: apiTime(day), limit: '1000' })),
      ]);
      // The server narrows by time when it can; counting here keeps the figures right either way.
      const items = recent.items || [];
      const per = {};
      for (const j of items) {
        const end = ms(j.finishedAt);
        if (!end || end < day) continue;
        const p = (per[j.queue] = per[j.queue] || { h: { Succeeded: 0, Failed: 0 }, d: { Succeeded: 0, Failed: 0 } });
        if (j.state in p.d) {
          p.d[j.state] += 1;
          if (end >= now - 3600e3) p.h[j.state] += 1;
        }
      }
      const rows = queues.items.map((q) => {
        const p = per[q.name] || { h: { Succeeded: 0, Failed: 0 }, d: { Succeeded: 0, Failed: 0 } };
        const cap = q.limit === null ? '∞' : q.limit;
        const meter = el('meter', { min: 0, max: q.limit || Math.max(1, q.active), value: q.active, 'aria-label': `${q.name} running against cap` });
        return el('tr', { 'data-queue': q.name },
          el('th', { scope: 'row' }, el('a', { href: `#/jobs?queue=${encodeURIComponent(q.name)}`, text: q.name })),
          el('td', {}, meter, ` ${q.active} / ${cap}`),
          el('td', { text: q.queued }),
          el('td', { text: q.oldestQueuedMs ? fmtDuration(now - q.oldestQueuedMs) : '' }),
          el('td', { text: `${p.h.Succeeded} / ${p.d.Succeeded}` }),
          el('td', { text: `${p.h.Failed} / ${p.d.Failed}` }),
          el('td', {}, q.paused ? el('span', { class: 'paused', text: 'paused' }) : 'running'));
      });
      queuesBox.replaceChildren(rows.length
        ? table(['Queue', 'Running / cap', 'Queued', 'Oldest wait', 'Succeeded 1h / 24h', 'Failed 1h / 24h', 'Admission'], rows)
        : el('p', { text: 'No queues yet.' }));
      const failures = items.filter((j) => j.state === 'Failed').sort((a, b) => ms(b.finishedAt) - ms(a.finishedAt)).slice(0, 10);
      failuresBox.replaceChildren(failures.length
        ? table(['Job', 'Queue', 'Reason', 'Ended'], failures.map((j) => el('tr', {},
          el('td', {}, jobLink(j.id)), el('td', { text: j.queue }), el('td', { text: j.reason || '' }),
          el('td', { text: fmtTime(j.finishedAt) }))))
        : el('p', { text: 'No failures in the last day.' }));
      chartBox.replaceChildren(startsAndEnds(items, now));
    }
    return { root, refresh, every: 750 };
  }

  // Bars per 15 minutes: starts above the line, ends below. SVG attributes, no inline style.
  function startsAndEnds(items, now) {
    const buckets = 24;
    const width = 15 * 60e3;
    const from = now - buckets * width;
    const starts = new Array(buckets).fill(0);
    const ends = new Array(buckets).fill(0);
    for (const j of items) {
      const s = ms(j.startedAt);
      const e = ms(j.finishedAt);
      if (s >= from) starts[Math.min(buckets - 1, Math.floor((s - from) / width))] += 1;
      if (e >= from) ends[Math.min(buckets - 1, Math.floor((e - from) / width))] += 1;
    }
    const max = Math.max(1, ...starts, ...ends);
    const W = 480;
    const H = 120;
    const bw = W / buckets;
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'chart-svg', preserveAspectRatio: 'none' });
    const title = svg('title');
    title.textContent = `Starts and ends per 15 minutes: ${starts.reduce((a, b) => a + b, 0)} started, ${ends.reduce((a, b) => a + b, 0)} ended`;
    root.append(title);
    root.append(svg('line', { x1: 0, x2: W, y1: H / 2, y2: H / 2, class: 'axis' }));
    for (let i = 0; i < buckets; i++) {
      const hs = (starts[i] / max) * (H / 2 - 4);
      const he = (ends[i] / max) * (H / 2 - 4);
      if (hs) root.append(svg('rect', { x: i * bw + 1, y: H / 2 - hs, width: bw - 2, height: hs, class: 'bar-start' }));
      if (he) root.append(svg('rect', { x: i * bw + 1, y: H / 2, width: bw - 2, height: he, class: 'bar-end' }));
    }
    return el('figure', {}, root, el('figcaption', { text: 'Above the line: jobs started; below: jobs ended (15-minute steps, newest on the right).' }));
  }

  // ---- Jobs ----
  // URL parameters (also sent to the API): states, queue, origin, reason, since, until,
  // idPrefix, order, cursor/continue. Filters the server does not know yet are applied here too.
  function jobsView(params) {
    const form = el('form', { class: 'filters', 'aria-label': 'Filters' });
    const states = new Set((params.get('states') || params.get('state') || '').split(',').filter(Boolean));
    const stateBox = el('fieldset', {}, el('legend', { text: 'State' }));
    for (const s of STATES) {
      const id = `f-state-${s}`;
      stateBox.append(el('label', { for: id, class: 'check' },
        el('input', { type: 'checkbox', id, name: 'states', value: s, checked: states.has(s) }), ` ${s}`));
    }
    const field = (label, input) => el('label', { class: 'field' }, el('span', { text: label }), input);
    const queueIn = el('input', { name: 'queue', value: params.get('queue') || '', list: 'queue-names', autocomplete: 'off' });
    const originIn = el('select', { name: 'origin' },
      ...['', 'kjq', 'nautobot'].map((o) => el('option', { value: o, text: o || 'any', selected: params.get('origin') === o })));
    const reasonIn = el('input', { name: 'reason', value: params.get('reason') || '', autocomplete: 'off' });
    const toLocal = (v) => {
      if (!v) return '';
      const d = new Date(Number(v));
      if (isNaN(d)) return '';
      return new Date(d.getTime() - d.getTimezoneOffset() * 60e3).toISOString().slice(0, 16);
    };
    const sinceIn = el('input', { name: 'since', type: 'datetime-local', value: toLocal(params.get('since')) });
    const untilIn = el('input', { name: 'until', type: 'datetime-local', value: toLocal(params.get('until')) });
    const idIn = el('input', { name: 'idPrefix', value: params.get('idPrefix') || '', autocomplete: 'off', spellcheck: 'false' });
    const orderIn = el('select', { name: 'order' },
      el('option', { value: 'newest', text: 'newest first', selected: params.get('order') !== 'oldest' }),
      el('option', { value: 'oldest', text: 'oldest first', selected: params.get('order') === 'oldest' }));
    const names = el('datalist', { id: 'queue-names' });
    form.append(stateBox,
      el('div', { class: 'fields' },
        field('Queue', queueIn), field('Origin', originIn), field('Reason', reasonIn), field('Id starts with', idIn),
        field('Since', sinceIn), field('Until', untilIn), field('Order', orderIn)),
      names,
      el('div', { class: 'buttons' }, el('button', { type: 'submit', text: 'Apply' }),
        el('a', { href: '#/jobs', class: 'button-link', text: 'Clear' })));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const p = new URLSearchParams();
      const chosen = [...form.querySelectorAll('input[name=states]:checked')].map((c) => c.value);
      if (chosen.length) p.set('states', chosen.join(','));
      for (const [k, input] of [['queue', queueIn], ['origin', originIn], ['reason', reasonIn], ['idPrefix', idIn]])
        if (input.value.trim()) p.set(k, input.value.trim());
      for (const [k, input] of [['since', sinceIn], ['until', untilIn]])
        if (input.value) p.set(k, String(new Date(input.value).getTime()));
      if (orderIn.value !== 'newest') p.set('order', orderIn.value);
      const q = p.toString();
      location.hash = `#/jobs${q ? `?${q}` : ''}`;
    });

    const counts = el('p', { class: 'counts', 'aria-label': 'Jobs per state' });
    const list = el('div');
    const pager = el('nav', { class: 'pager', 'aria-label': 'Pages' });
    const root = el('section', { 'aria-labelledby': 'h-jobs' },
      el('h1', { id: 'h-jobs', text: 'Jobs' }), form,
      el('p', { class: 'view-error error', role: 'alert' }), counts, list, pager);

    function query() {
      const q = new URLSearchParams();
      q.set('limit', String(PAGE_SIZE));
      q.set('order', params.get('order') || 'newest');
      for (const k of ['queue', 'origin', 'reason', 'idPrefix', 'cursor', 'continue'])
        if (params.get(k)) q.set(k, params.get(k));
      for (const k of ['since', 'until']) if (params.get(k)) q.set(k, apiTime(Number(params.get(k))));
      // One state: the `state` filter every server knows; several: `states`.
      if (states.size === 1) q.set('state', [...states][0]);
      else if (states.size > 1) q.set('states', [...states].join(','));
      return q;
    }
    function keep(j) {
      if (states.size && !states.has(j.state)) return false;
      if (params.get('reason') && j.reason !== params.get('reason')) return false;
      if (params.get('idPrefix') && !j.id.startsWith(params.get('idPrefix'))) return false;
      const created = ms(j.createdAt);
      if (params.get('since') && created < Number(params.get('since'))) return false;
      if (params.get('until') && created >= Number(params.get('until'))) return false;
      return true;
    }
    async function refresh() {
      const [page, queues] = await Promise.all([listJobs(query()), api('/api/v1/queues')]);
      names.replaceChildren(...queues.items.map((q) => el('option', { value: q.name })));
      const total = {};
      for (const q of queues.items) {
        if (params.get('queue') && q.name !== params.get('queue')) continue;
        for (const s of STATES) total[s] = (total[s] || 0) + (q[s.toLowerCase()] || 0);
      }
      counts.replaceChildren(...STATES.map((s) => el('a', {
        class: 'count', href: `#/jobs?${new URLSearchParams(Object.assign({}, params.get('queue') ? { queue: params.get('queue') } : {}, { states: s }))}`,
      }, stateBadge(s), ` ${total[s] || 0}`)));
      const items = (page.items || []).filter(keep);
      list.replaceChildren(items.length
        ? table(['Job', 'Queue', 'State', 'Reason', 'Created', 'Ran', 'Exit'], items.map((j) => el('tr', { 'data-id': j.id },
          el('td', {}, jobLink(j.id)), el('td', { text: j.queue }), el('td', {}, stateBadge(j.state)),
          el('td', { text: j.reason || '' }), el('td', { text: fmtTime(j.createdAt) }),
          el('td', { text: j.startedAt ? fmtDuration((ms(j.finishedAt) || Date.now()) - ms(j.startedAt)) : '' }),
          el('td', { text: j.exitCode === undefined ? '' : j.exitCode })))
        , 'Jobs matching the filters')
        : el('p', { class: 'empty', text: 'No jobs match these filters.' }));
      pager.replaceChildren();
      const next = page.cursor || page.nextCursor || page.continue;
      const p0 = new URLSearchParams(params);
      if (params.get('cursor') || params.get('continue')) {
        p0.delete('cursor');
        p0.delete('continue');
        pager.append(el('a', { href: `#/jobs${p0.toString() ? `?${p0}` : ''}`, text: 'First page' }));
      }
      if (next) {
        const p1 = new URLSearchParams(params);
        p1.delete('cursor');
        p1.delete('continue');
        p1.set(page.continue && !page.cursor && !page.nextCursor ? 'continue' : 'cursor', next);
        pager.append(el('a', { href: `#/jobs?${p1}`, text: 'Next page' }));
      }
    }
    return { root, refresh };
  }

  // ---- Job ----
  function jobView(id) {
    const head = el('div');
    const timeline = el('ol', { class: 'timeline' });
    const actions = el('div', { class: 'actions' });
    const log = el('pre', { class: 'log', tabindex: '0', 'aria-label': 'Log tail' });
    const events = el('div');
    const yaml = el('pre', { class: 'yaml', tabindex: '0', 'aria-label': 'The Job as created' });
    const h1 = el('h1', { id: 'h-job' }, 'Job ', el('span', { class: 'mono', text: id }));
    const root = el('section', { 'aria-labelledby': 'h-job' },
      el('p', {}, el('a', { href: '#/jobs', text: '← Jobs' })), h1,
      el('p', { class: 'view-error error', role: 'alert' }),
      head, actions,
      el('h2', { text: 'Timeline' }), timeline,
      el('h2', { text: 'Log tail' }), log,
      el('h2', { text: 'Events' }), events,
      el('details', { class: 'manifest' }, el('summary', { text: 'The Job as created (YAML)' }), yaml));
    let manifestLoaded = false;
    root.querySelector('details').addEventListener('toggle', (ev) => {
      if (!ev.target.open || manifestLoaded) return;
      manifestLoaded = true;
      api(`/api/v1/jobs/${encodeURIComponent(id)}/manifest`).then((text) => {
        yaml.textContent = text;
      }).catch((e) => {
        yaml.textContent = e.message;
      });
    });
    async function refresh() {
      const j = await api(`/api/v1/jobs/${encodeURIComponent(id)}`);
      const facts = [['State', stateBadge(j.state)], ['Queue', j.queue], ['Origin', j.origin],
        ['Reason', j.reason || ''], ['Message', j.message || ''],
        ['Exit code', j.exitCode === undefined ? '' : String(j.exitCode)]];
      if (j.queuePosition) facts.push(['Position in queue', String(j.queuePosition)]);
      if (j.kubernetesJob) facts.push(['Kubernetes Job', `${j.kubernetesJob.namespace}/${j.kubernetesJob.name}`]);
      if (j.jobResultId) facts.push(['JobResult', j.jobResultId]);
      if (j.cancelRequested) facts.push(['Cancel', 'requested']);
      const dl = el('dl', { class: 'facts' });
      for (const [k, v] of facts) dl.append(el('dt', { text: k }), el('dd', {}, v));
      head.replaceChildren(dl);
      timeline.replaceChildren(...[['Created', j.createdAt], ['Submitted', j.submittedAt], ['Started', j.startedAt],
        [j.state && FINAL.has(j.state) ? j.state : 'Ended', j.finishedAt]]
        .filter(([, t]) => t)
        .map(([k, t]) => el('li', {}, el('span', { class: 'when', text: fmtTime(t) }), ` ${k}`)));
      log.textContent = j.logTail || '(no log captured yet)';
      const evs = Array.isArray(j.events) ? j.events : [];
      events.replaceChildren(evs.length
        ? table(['Time', 'Type', 'Reason', 'Object', 'Message'], evs.map((e) => el('tr', {},
          el('td', { text: fmtTime(e.lastTimestamp || e.eventTime || e.firstTimestamp || e.time || '') }),
          el('td', { text: e.type || '' }), el('td', { text: e.reason || '' }),
          el('td', { text: e.object || (e.involvedObject ? `${e.involvedObject.kind || ''}/${e.involvedObject.name || ''}` : '') }),
          el('td', { text: e.message || '' }))))
        : el('p', { class: 'empty', text: 'No Events captured yet.' }));
      actions.replaceChildren();
      if (!FINAL.has(j.state)) {
        const button = el('button', { type: 'button', class: 'danger', id: 'cancel-job', text: 'Cancel job…' });
        if (role !== 'operator') {
          button.disabled = true;
          button.title = 'Read-only token: cancelling needs an operator token';
        }
        button.addEventListener('click', async () => {
          if (!(await confirmDialog(`Cancel job ${j.id}? Its Kubernetes Job is deleted.`, 'Cancel job'))) return;
          try {
            await api(`/api/v1/jobs/${encodeURIComponent(j.id)}/cancel`, { method: 'POST' });
            await refresh();
          } catch (e) {
            showError(e);
          }
        });
        actions.append(button);
      }
    }
    return { root, refresh };
  }

  // ---- Queues ----
  function queuesView() {
    const box = el('div');
    const root = el('section', { 'aria-labelledby': 'h-queues' },
      el('h1', { id: 'h-queues', text: 'Queues' }),
      el('p', { class: 'view-error error', role: 'alert' }), box);
    async function refresh() {
      const now = Date.now();
      const queues = await api('/api/v1/queues');
      const waiting = await Promise.all(queues.items.map((q) => (q.queued > 0
        ? listJobs(new URLSearchParams({ queue: q.name, state: 'Queued', order: 'oldest', limit: '20' }))
        : Promise.resolve({ items: [] }))));
      const cards = queues.items.map((q, i) => {
        const cap = q.limit === null ? 'no cap' : String(q.limit);
        const toggle = el('button', {
          type: 'button', class: q.paused ? '' : 'danger', 'data-queue': q.name, 'data-key': `toggle-${q.name}`,
          text: q.paused ? `Resume ${q.name}` : `Pause ${q.name}`,
        });
        if (role !== 'operator') {
          toggle.disabled = true;
          toggle.title = 'Read-only token: pausing needs an operator token';
        }
        toggle.addEventListener('click', async () => {
          try {
            await api(`/api/v1/queues/${encodeURIComponent(q.name)}/${q.paused ? 'resume' : 'pause'}`, { method: 'POST' });
            await refresh();
          } catch (e) {
            showError(e);
          }
        });
        const dl = el('dl', { class: 'facts' },
          el('dt', { text: 'Cap' }), el('dd', { text: cap }),
          el('dt', { text: 'Running' }), el('dd', { text: `${q.active} (${q.running} running, ${q.scheduled} scheduled, ${q.submitted} submitted)` }),
          el('dt', { text: 'Queued' }), el('dd', { text: q.queued }),
          el('dt', { text: 'Oldest wait' }), el('dd', { text: q.oldestQueuedMs ? fmtDuration(now - q.oldestQueuedMs) : '' }),
          el('dt', { text: 'Admission' }), el('dd', {}, q.paused ? el('span', { class: 'paused', text: 'paused' }) : 'running'));
        const items = waiting[i].items.filter((j) => j.state === 'Queued');
        const order = items.length
          ? table(['Position', 'Job', 'Waiting'], items.map((j, k) => el('tr', {},
            el('td', { text: k + 1 }), el('td', {}, jobLink(j.id)), el('td', { text: fmtDuration(now - ms(j.createdAt)) }))),
          `Waiting in ${q.name}, next first`)
          : el('p', { class: 'empty', text: 'Nobody waiting.' });
        return el('article', { class: 'queue', 'data-queue': q.name },
          el('h2', { text: q.name }), dl, el('div', { class: 'actions' }, toggle), order);
      });
      box.replaceChildren(...(cards.length ? cards : [el('p', { text: 'No queues yet.' })]));
    }
    return { root, refresh };
  }

  // A modal question; resolves true for yes. The dialog is part of the page (no window.confirm).
  function confirmDialog(text, yesLabel) {
    const d = $('confirm');
    $('confirm-text').textContent = text;
    $('confirm-yes').textContent = yesLabel;
    d.returnValue = '';
    return new Promise((resolve) => {
      d.addEventListener('close', () => resolve(d.returnValue === 'yes'), { once: true });
      d.showModal();
      $('confirm-no').focus();
    });
  }

  // ---- start ----
  document.addEventListener('DOMContentLoaded', () => {
    $('skip').addEventListener('click', (ev) => {
      ev.preventDefault(); // the hash is the router's
      $('main').focus();
    });
    $('signin-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      $('signin-error').textContent = '';
      try {
        await signIn($('token').value.trim());
        $('token').value = '';
        showSignedIn();
      } catch (e) {
        $('signin-error').textContent = e.message || String(e);
      }
    });
    $('signout').addEventListener('click', () => signOut(''));
    window.addEventListener('hashchange', route);
    if (!token) return signOut('');
    signIn(token).then(showSignedIn).catch(() => signOut('Sign in again.'));
  });
})();
