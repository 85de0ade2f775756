// jobd's dashboard: written from plugins/http/API.md alone, as any other client would be.
// Live through GET /api/v1/events (Server-Sent Events); the job table is one page of
// GET /api/v1/jobs at a time (the opaque cursor), so it stays light however many jobs jobd
// holds. Every text that comes from the server is put in the page as text (textContent,
// Text nodes), never as HTML: job names and errors come from outside.
'use strict';
(function () {
  const STATES = ['QUEUED', 'SUBMITTED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED',
    'RETRY_WAIT', 'UNKNOWN', 'LOST'];
  const SIDE_MAX = 8;            // entries in the failures and stale lists
  const STATS_EVERY = 1000;      // ms: counts are asked at most this often
  const HEALTH_EVERY = 10000;    // ms: plugins and readiness
  const RETRY_MAX = 10000;       // ms: the longest wait between two reconnections
  const $ = (id) => document.getElementById(id);

  // ---- Small helpers -------------------------------------------------------------------

  // Makes an element; children that are strings become Text nodes (never parsed as HTML).
  function el (tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children)
      if (child !== null && child !== undefined && child !== false) node.append(child);
    return node;
  }

  function firstLine (text) {
    return typeof text === 'string' ? text.split('\n', 1)[0].trim() : '';
  }

  // The one-line reason of a job record or transition: its cause, else its error's first line.
  function reasonOf (job) {
    return firstLine(job.cause) || firstLine(job.error);
  }

  // Only http(s) links go into an href: a backend's app_url could be anything.
  function safeUrl (text) {
    try {
      const url = new URL(text, location.href);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  let skew = 0; // the server's clock minus ours (ms), from each answer's `now`
  const serverNow = () => Date.now() + skew;

  function fmtAge (ms) {
    if (!(ms >= 0)) ms = 0;
    const s = Math.floor(ms / 1000);
    if (s < 60) return s + 's';
    const m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + (s % 60) + 's';
    const h = Math.floor(m / 60);
    if (h < 48) return h + 'h ' + (m % 60) + 'm';
    return Math.floor(h / 24) + 'd ' + (h % 24) + 'h';
  }

  function fmtTime (ms) {
    if (!ms) return '';
    const date = new Date(ms);
    const today = new Date().toDateString() === date.toDateString();
    return today ? date.toLocaleTimeString() : date.toLocaleString();
  }

  // A span whose text is an age kept current by the ticker: "4m 2s" since t.
  function ageSpan (t, prefix) {
    const span = el('span', { class: 'age', title: fmtTime(t) });
    if (t) {
      span.dataset.t = String(t);
      span.dataset.prefix = prefix || '';
      span.textContent = (prefix || '') + fmtAge(serverNow() - t);
    }
    return span;
  }

  function stateBadge (state) {
    return el('span', { class: 'state s-' + String(state || '').toLowerCase() }, state || '?');
  }

  // Calls fn at most once every `every` ms, the last call winning (trailing).
  function throttle (fn, every) {
    let last = 0;
    let timer = null;
    return function () {
      if (timer) return;
      const wait = Math.max(0, last + every - Date.now());
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        fn();
      }, wait);
    };
  }

  // ---- The API, with the token when reads need one -------------------------------------

  const auth = { token: sessionStorage.getItem('jobd.token') || '', asking: null };

  // Shows the token dialog (once, however many calls wait for it); resolves when one is given.
  function askToken (refused) {
    if (!auth.asking) {
      auth.asking = new Promise((resolve) => {
        const dialog = $('auth-dialog');
        $('auth-why').classList.toggle('error', refused);
        if (refused) $('auth-why').textContent = 'jobd refused that token: try another.';
        dialog.addEventListener('close', function done () {
          dialog.removeEventListener('close', done);
          auth.token = $('auth-token').value.trim();
          sessionStorage.setItem('jobd.token', auth.token);
          auth.asking = null;
          resolve();
        });
        dialog.showModal();
      });
    }
    return auth.asking;
  }

  function authHeaders () {
    const headers = { Accept: 'application/json' };
    if (auth.token) headers.Authorization = 'Bearer ' + auth.token;
    return headers;
  }

  // GETs path and returns its JSON; an error (with .status) when jobd does not answer or
  // answers an error. A 401 asks for the token and tries again.
  async function api (path, signal) {
    for (;;) {
      let response;
      try {
        response = await fetch(path, { headers: authHeaders(), cache: 'no-store', signal });
      } catch (e) {
        if (e.name === 'AbortError') throw e;
        const error = new Error('jobd does not answer');
        error.status = 0;
        throw error;
      }
      if (response.status === 401) {
        await askToken(Boolean(auth.token));
        continue;
      }
      let body = null;
      try {
        body = await response.json();
      } catch (e) {
        body = null;
      }
      if (body && typeof body.now === 'number') skew = body.now - Date.now();
      if (!response.ok) {
        const error = new Error((body && body.reason) || 'HTTP ' + response.status);
        error.status = response.status;
        error.body = body;
        throw error;
      }
      return body;
    }
  }

  function query (params) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params))
      if (value !== undefined && value !== null && value !== '' && value !== false)
        search.set(key, String(value));
    const text = search.toString();
    return text ? '?' + text : '';
  }

  // ---- Counts by state -------------------------------------------------------------------

  const countCells = new Map();

  function buildCounts () {
    const list = $('counts');
    for (const state of STATES) {
      const value = el('span', { class: 'count' }, '–');
      const button = el('button', {
        type: 'button',
        class: 'card s-' + state.toLowerCase(),
        'aria-label': state + ': show these jobs',
        onclick: () => setView({ filter: { state: view.filter.state === state ? '' : state } })
      }, el('span', { class: 'label' }, state), value);
      countCells.set(state, { value, button });
      list.append(el('li', null, button));
    }
    const select = $('f-state');
    for (const state of STATES) select.append(el('option', { value: state }, state));
  }

  async function loadStats () {
    try {
      const stats = await api('/api/v1/stats');
      for (const state of STATES) {
        const cell = countCells.get(state);
        const count = stats.counts && Number(stats.counts[state]);
        cell.value.textContent = Number.isFinite(count) ? count.toLocaleString() : '–';
      }
    } catch (e) {
      // The stream's banner says when jobd is away; counts keep their last values.
    }
  }
  const statsSoon = throttle(loadStats, STATS_EVERY);

  // ---- The job table -----------------------------------------------------------------------

  const view = {
    filter: { state: '', name: '', kind: '', backend: '', stale: false },
    sort: '-updated',
    limit: 50,
    cursors: [null], // cursors[i]: the cursor of page i (null for the first)
    page: 0,
    next: null,
    matched: 0,
    rows: new Map(), // job id -> { tr, job }
    request: 0,      // the latest load's number: older answers are dropped
    abort: null,     // aborts the latest load's request
    fresh: 0         // new jobs the current sort cannot place without a reload
  };

  function readHash () {
    const params = new URLSearchParams(location.hash.slice(1));
    view.filter.state = params.get('state') || '';
    view.filter.name = params.get('name') || '';
    view.filter.kind = params.get('kind') || '';
    view.filter.backend = params.get('backend') || '';
    view.filter.stale = params.get('stale') === 'true';
    // A sort or page size typed into the address by hand: only those the form offers.
    const offered = (id, value) => [...$(id).options].some((option) => option.value === value);
    view.sort = offered('f-sort', params.get('sort')) ? params.get('sort') : '-updated';
    view.limit = offered('f-limit', params.get('limit')) ? Number(params.get('limit')) : 50;
  }

  function writeHash () {
    const text = query({ ...view.filter, sort: view.sort === '-updated' ? '' : view.sort,
      limit: view.limit === 50 ? '' : view.limit }).slice(1);
    history.replaceState(null, '', text ? '#' + text : location.pathname);
  }

  function syncForm () {
    const select = $('f-state');
    if (view.filter.state && ![...select.options].some((o) => o.value === view.filter.state))
      select.append(el('option', { value: view.filter.state }, view.filter.state));
    select.value = view.filter.state;
    $('f-name').value = view.filter.name;
    $('f-kind').value = view.filter.kind;
    $('f-backend').value = view.filter.backend;
    $('f-stale').checked = view.filter.stale;
    $('f-sort').value = view.sort;
    $('f-limit').value = String(view.limit);
    syncMarks();
  }

  // The marks that follow the view: the sorted column, the pressed state card.
  function syncMarks () {
    for (const th of document.querySelectorAll('#jobs th[data-sort]')) {
      const key = th.dataset.sort;
      const sort = view.sort.replace(/^-/, '');
      th.setAttribute('aria-sort', sort === key
        ? (view.sort.startsWith('-') ? 'descending' : 'ascending') : 'none');
    }
    for (const [state, cell] of countCells)
      cell.button.setAttribute('aria-pressed', String(view.filter.state === state));
  }

  // The view from the form, as the user left it (a field being typed in included).
  function readForm () {
    view.filter = {
      state: $('f-state').value,
      name: $('f-name').value,
      kind: $('f-kind').value.trim(),
      backend: $('f-backend').value.trim(),
      stale: $('f-stale').checked
    };
    view.sort = $('f-sort').value;
    view.limit = Number($('f-limit').value) || 50;
    restart(false);
  }

  // A change from outside the form (a state card, a column's sort button): the form follows.
  function setView (change) {
    Object.assign(view.filter, change.filter || {});
    if (change.sort) view.sort = change.sort;
    restart(true);
  }

  function restart (toForm) {
    view.cursors = [null];
    view.page = 0;
    writeHash();
    if (toForm) syncForm();
    else syncMarks();
    loadPage();
  }

  // True when job (a record, or one built from a transition) passes the table's filters.
  function matches (job) {
    const f = view.filter;
    if (f.state && !f.state.split(',').includes(job.state)) return false;
    if (f.kind && job.kind !== f.kind) return false;
    if (f.backend && (job.backend || '') !== f.backend) return false;
    if (f.name && !(job.name || '').includes(f.name)) return false;
    if (f.stale && !job.stale) return false;
    return true;
  }

  function fillRow (tr, job) {
    tr.replaceChildren();
    tr.dataset.state = job.state || '';
    tr.classList.toggle('stale', Boolean(job.stale));
    const open = el('button', { type: 'button', class: 'link', 'aria-haspopup': 'dialog',
      onclick: (event) => { event.stopPropagation(); openJob(job.id); } }, job.id);
    const state = el('td', { class: 'c-state' }, stateBadge(job.state));
    if (job.stale) {
      const since = job.confirmed_at || job.last_seen || job.updated_at;
      state.append(' ', el('span', { class: 'tag stale-tag', title: job.stale },
        ageSpan(since, 'stale, silent ')));
    }
    const reason = job.state === 'SUCCEEDED' ? '' : reasonOf(job);
    tr.append(
      el('td', { class: 'c-id' }, open),
      el('td', { class: 'c-name' }, job.name || ''),
      el('td', { class: 'c-kind opt' }, job.kind || ''),
      el('td', { class: 'c-backend opt' }, job.backend || ''),
      state,
      el('td', { class: 'c-attempt opt num' }, job.attempt ? String(job.attempt) : ''),
      el('td', { class: 'c-updated' }, ageSpan(job.updated_at, '')),
      el('td', { class: 'c-reason', title: job.stale || reason || null }, job.stale || reason));
  }

  function addRow (job, atTop) {
    const tr = el('tr', { 'data-job': job.id, onclick: () => openJob(job.id) });
    fillRow(tr, job);
    view.rows.set(job.id, { tr, job });
    const body = $('rows');
    if (atTop) body.prepend(tr);
    else body.append(tr);
    return tr;
  }

  function trimRows () {
    const body = $('rows');
    while (body.rows.length > view.limit) {
      const last = body.rows[body.rows.length - 1];
      view.rows.delete(last.dataset.job);
      last.remove();
    }
  }

  function flash (tr) {
    tr.classList.remove('flash');
    void tr.offsetWidth; // restarts the animation
    tr.classList.add('flash');
  }

  function showMatched () {
    const first = view.page * view.limit + 1;
    const shown = $('rows').rows.length;
    $('matched').textContent = '(' + view.matched.toLocaleString() + ' matching)';
    $('page').textContent = shown ? 'jobs ' + first.toLocaleString() + '–' +
      (first + shown - 1).toLocaleString() : '';
    $('empty').hidden = shown > 0;
    $('first').disabled = view.page === 0;
    $('prev').disabled = view.page === 0;
    $('next').disabled = !view.next;
  }

  async function loadPage () {
    const number = ++view.request;
    // A page asked for before (a filter typed further since) is not wanted any more.
    if (view.abort) view.abort.abort();
    const abort = new AbortController();
    view.abort = abort;
    const params = { ...view.filter, stale: view.filter.stale ? 'true' : '', sort: view.sort,
      limit: view.limit, cursor: view.cursors[view.page] };
    $('jobs').setAttribute('aria-busy', 'true');
    try {
      const page = await api('/api/v1/jobs' + query(params), abort.signal);
      if (number !== view.request) return;
      $('error').hidden = true;
      $('rows').replaceChildren();
      view.rows.clear();
      for (const job of page.jobs || []) addRow(job, false);
      view.next = page.next || null;
      view.cursors[view.page + 1] = view.next;
      view.matched = Number(page.matched) || 0;
      view.fresh = 0;
      $('news').hidden = true;
    } catch (e) {
      if (number !== view.request) return;
      $('error').textContent = 'Jobs could not be read: ' + e.message;
      $('error').hidden = false;
    } finally {
      if (number === view.request) {
        $('jobs').removeAttribute('aria-busy');
        showMatched();
      }
    }
  }

  // A job record as far as a transition tells it (for a row of a job not shown yet).
  function jobOfTransition (t) {
    return { id: t.job, name: t.name, kind: t.kind, backend: t.backend, ext: t.ext };
  }

  function applyTransition (job, t) {
    job.state = t.state;
    job.last_seq = t.seq;
    if (t.attempt) job.attempt = t.attempt;
    if (t.ts) job.updated_at = t.ts;
    for (const key of ['name', 'kind', 'backend', 'ext'])
      if (t[key] !== undefined) job[key] = t[key];
    job.error = t.error;
    job.cause = t.cause;
    delete job.stale; // a transition clears the stale flag (API.md: the record's `stale`)
    if (!t.from && t.ts) job.queued_at = t.ts;
  }

  function tableTransition (t) {
    const entry = view.rows.get(t.job);
    if (entry) {
      if (t.seq && entry.job.last_seq && t.seq <= entry.job.last_seq) return; // seen already
      applyTransition(entry.job, t);
      fillRow(entry.tr, entry.job);
      entry.tr.classList.toggle('unmatched', !matches(entry.job));
      if (view.page === 0 && view.sort === '-updated' && $('rows').firstChild !== entry.tr)
        $('rows').prepend(entry.tr);
      flash(entry.tr);
      return;
    }
    if (view.page !== 0) return;
    const job = jobOfTransition(t);
    applyTransition(job, t);
    if (!matches(job)) return;
    const created = !t.from;
    if (view.sort === '-updated' || (view.sort === '-created' && created)) {
      flash(addRow(job, true));
      trimRows();
      if (created) view.matched++;
      showMatched();
    } else if (created) {
      // Another order: where it goes is the server's to say; offer a reload, not a flood.
      view.fresh++;
      $('news-button').textContent = view.fresh + (view.fresh === 1 ? ' new job' : ' new jobs') +
        ' match: show them';
      $('news').hidden = false;
    }
  }

  function tableStale (s) {
    const entry = view.rows.get(s.job);
    if (!entry) return;
    entry.job.stale = s.error || 'stale';
    if (s.last_seen) entry.job.last_seen = s.last_seen;
    delete entry.job.confirmed_at;
    fillRow(entry.tr, entry.job);
    flash(entry.tr);
  }

  // ---- Failures and stale jobs ---------------------------------------------------------------

  const side = {
    failures: new Map(), // job id -> li
    stale: new Map(),
    staleMatched: 0
  };

  function sideItem (id, name, badge, reason, since, prefix) {
    return el('li', { 'data-job': id },
      el('div', { class: 'item-head' },
        el('button', { type: 'button', class: 'link', 'aria-haspopup': 'dialog',
          onclick: () => openJob(id) }, id),
        ' ', el('span', { class: 'muted name' }, name || ''), ' ', badge,
        ' ', ageSpan(since, prefix)),
      reason ? el('div', { class: 'reason' }, reason) : null);
  }

  function putSide (map, list, id, item) {
    const old = map.get(id);
    if (old) old.remove();
    map.set(id, item);
    list.prepend(item);
    while (list.children.length > SIDE_MAX) {
      const last = list.lastElementChild;
      map.delete(last.dataset.job);
      last.remove();
    }
  }

  function dropSide (map, id) {
    const item = map.get(id);
    if (!item) return false;
    item.remove();
    map.delete(id);
    return true;
  }

  function showSideEmpty () {
    for (const id of ['failures', 'stale']) {
      const list = $(id);
      if (!list.children.length)
        list.append(el('li', { class: 'muted none' }, id === 'failures' ? 'No failed job.' : 'None.'));
    }
    $('stale-count').textContent = side.staleMatched ? '(' + side.staleMatched + ')' : '';
  }

  function clearSideEmpty (list) {
    for (const none of list.querySelectorAll('.none')) none.remove();
  }

  async function loadSide () {
    try {
      const [failed, stale] = await Promise.all([
        api('/api/v1/jobs' + query({ state: 'FAILED', sort: '-updated', limit: SIDE_MAX })),
        api('/api/v1/jobs' + query({ stale: 'true', sort: '-updated', limit: SIDE_MAX }))]);
      $('failures').replaceChildren();
      side.failures.clear();
      for (const job of (failed.jobs || []).reverse())
        putSide(side.failures, $('failures'), job.id,
          sideItem(job.id, job.name, null, reasonOf(job), job.updated_at, 'failed '));
      $('stale').replaceChildren();
      side.stale.clear();
      side.staleMatched = Number(stale.matched) || 0;
      for (const job of (stale.jobs || []).reverse())
        putSide(side.stale, $('stale'), job.id,
          sideItem(job.id, job.name, stateBadge(job.state), job.stale,
            job.confirmed_at || job.last_seen || job.updated_at, 'silent '));
    } catch (e) {
      // shown by the banner and the table's error
    }
    showSideEmpty();
  }

  function sideTransition (t) {
    if (dropSide(side.stale, t.job)) side.staleMatched = Math.max(0, side.staleMatched - 1);
    if (t.state === 'FAILED') {
      clearSideEmpty($('failures'));
      putSide(side.failures, $('failures'), t.job,
        sideItem(t.job, t.name, null, reasonOf(t), t.ts, 'failed '));
    } else {
      dropSide(side.failures, t.job);
    }
    showSideEmpty();
  }

  function sideStale (s) {
    if (!side.stale.has(s.job)) side.staleMatched++;
    clearSideEmpty($('stale'));
    putSide(side.stale, $('stale'), s.job,
      sideItem(s.job, s.name, stateBadge(s.state), s.error, s.last_seen, 'silent '));
    showSideEmpty();
  }

  // ---- Health ------------------------------------------------------------------------------

  async function loadHealth () {
    const ready = $('ready');
    try {
      const response = await fetch('/readyz', { cache: 'no-store' });
      const body = await response.json().catch(() => ({}));
      ready.className = 'ready ' + (response.ok ? 'ok' : 'bad');
      ready.replaceChildren(el('strong', null, response.ok ? 'Ready' : 'Not ready'));
      if (!response.ok) {
        const reasons = Array.isArray(body.reasons) ? body.reasons : [body.reason || ''];
        ready.append(el('ul', { class: 'reasons' }, ...reasons.map((r) => el('li', null, String(r)))));
      }
    } catch (e) {
      ready.className = 'ready bad';
      ready.replaceChildren(el('strong', null, 'jobd does not answer'));
    }
    try {
      const answer = await api('/api/v1/plugins');
      $('plugins').replaceChildren(...(answer.plugins || []).map((p) =>
        el('li', { 'data-plugin': p.name },
          el('div', { class: 'item-head' }, el('strong', null, p.name), ' ',
            el('span', { class: 'muted' }, p.version ? 'v' + p.version : ''), ' ',
            el('span', { class: 'health h-' + String(p.status) }, p.status)),
          p.detail ? el('div', { class: 'reason' }, p.detail) : null)));
    } catch (e) {
      // kept as it was; the readiness line says jobd is away
    }
  }

  // ---- A job's timeline ---------------------------------------------------------------------

  const dialog = { id: null, request: 0 };

  function field (list, name, value) {
    if (value === undefined || value === null || value === '') return;
    list.append(el('dt', null, name), el('dd', null, value));
  }

  async function openJob (id) {
    dialog.id = id;
    $('job-title').textContent = id;
    if (!$('job-dialog').open) {
      $('job-body').replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
      $('job-dialog').showModal();
    }
    await loadJob();
  }

  async function loadJob () {
    const id = dialog.id;
    const number = ++dialog.request;
    let answer;
    try {
      answer = await api('/api/v1/jobs/' + encodeURIComponent(id));
    } catch (e) {
      if (number === dialog.request)
        $('job-body').replaceChildren(el('p', { class: 'error' }, 'Cannot read ' + id + ': ' + e.message));
      return;
    }
    if (number !== dialog.request || id !== dialog.id) return;
    const job = answer.job || {};
    const facts = el('dl', { class: 'facts' });
    field(facts, 'Name', job.name);
    field(facts, 'State', stateBadge(job.state));
    field(facts, 'Kind', job.kind);
    field(facts, 'Backend', job.backend);
    field(facts, 'External id', job.ext);
    field(facts, 'Attempt', job.attempt ? String(job.attempt) : '');
    field(facts, 'Created', fmtTime(job.queued_at || job.submitted_at || job.started_at));
    field(facts, 'Last change', fmtTime(job.updated_at));
    if (answer.freshness && answer.freshness.confirmed_at)
      field(facts, 'Confirmed', ageSpan(answer.freshness.confirmed_at, '') );
    if (job.stale) field(facts, 'Stale', job.stale);
    field(facts, 'Reason', answer.reason);
    const links = el('p', { class: 'links' });
    for (const [key, label] of [['app_url', 'Application at the backend'], ['log_url', 'Logs']]) {
      const text = answer.links && answer.links[key];
      if (!text) continue;
      const href = safeUrl(text);
      links.append(href
        ? el('a', { href, target: '_blank', rel: 'noopener noreferrer' }, label)
        : el('span', { title: 'not an http(s) link' }, label + ': ' + text), ' ');
    }
    const rows = (answer.history || []).map((t) => el('tr', null,
      el('td', null, fmtTime(t.ts)),
      el('td', null, t.from ? stateBadge(t.from) : el('span', { class: 'muted' }, 'new'),
        ' → ', stateBadge(t.state)),
      el('td', { class: 'num' }, t.attempt ? String(t.attempt) : ''),
      el('td', null, t.src || ''),
      el('td', { class: 'reason' }, reasonOf(t))));
    const history = el('table', { class: 'history' },
      el('caption', null, 'Transitions' + (answer.history_skipped
        ? ' (the last ' + rows.length + '; ' + answer.history_skipped + ' earlier left out)' : '')),
      el('thead', null, el('tr', null, ...['Time', 'Change', 'Attempt', 'Source', 'Reason']
        .map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', null, ...rows));
    $('job-body').replaceChildren(facts, links.childNodes.length ? links : '', history);
  }
  const jobSoon = throttle(loadJob, 300);

  // ---- The live stream ----------------------------------------------------------------------

  const live = {
    source: null,
    lastId: null,   // the last event id received: where a new connection resumes
    lastAt: 0,      // when the last event came (our clock)
    down: false,    // the stream dropped and is not back yet
    downAt: 0,
    wait: 1000,     // before the next connection attempt
    timer: null,
    started: false, // the first hello came (the page's data was loaded after it)
    queue: []       // events waiting for the next frame
  };

  function setLive (stateWord, text) {
    $('live').dataset.live = stateWord;
    $('live-text').textContent = text;
  }

  function banner (kind, text) {
    const node = $('banner');
    clearTimeout(banner.timer);
    node.className = 'banner ' + kind;
    node.dataset.kind = kind;
    node.textContent = text;
    node.hidden = false;
    if (kind === 'back') banner.timer = setTimeout(() => { node.hidden = true; }, 15000);
  }

  function connect () {
    live.timer = null;
    const params = { token: auth.token };
    if (live.lastId !== null) params.last_event_id = live.lastId;
    // Reconnections are ours (not EventSource's own), so that each one resumes with the id
    // of the last event received (as last_event_id) and a refused token is noticed.
    const source = new EventSource('/api/v1/events' + query(params));
    live.source = source;
    source.addEventListener('hello', (event) => onHello(JSON.parse(event.data)));
    source.addEventListener('transition', (event) => onEvent('transition', event));
    source.addEventListener('stale', (event) => onEvent('stale', event));
    source.addEventListener('reset', (event) => onReset(event));
    source.addEventListener('error', () => {
      if (live.source !== source) return;
      source.close();
      live.source = null;
      dropped();
    });
  }

  function dropped () {
    if (!live.down) {
      live.down = true;
      live.downAt = Date.now();
      banner('down', 'Live updates stopped at ' + fmtTime(live.downAt) +
        ': the event stream dropped. Reconnecting…');
    }
    setLive('down', 'Not live');
    live.timer = setTimeout(probe, live.wait);
    live.wait = Math.min(RETRY_MAX, live.wait * 2);
  }

  // Before reconnecting, one plain request: it asks for a token on a 401, and it keeps a
  // stopped jobd from filling the console with failed stream connections.
  async function probe () {
    try {
      await api('/api/v1/stats');
    } catch (e) {
      if (e.status === 0 || e.status >= 500) {
        live.timer = setTimeout(probe, live.wait);
        live.wait = Math.min(RETRY_MAX, live.wait * 2);
        return;
      }
    }
    connect();
  }

  function onHello (hello) {
    live.wait = 1000;
    setLive('live', 'Live');
    if (live.lastId === null) live.lastId = Number(hello.after) || 0;
    if (!live.started) {
      live.started = true;
      loadPage();
      loadSide();
    } else if (live.down) {
      banner('back', 'Live again since ' + fmtTime(Date.now()) + ': resumed after event ' +
        live.lastId + ', nothing missed.');
    }
    live.down = false;
    statsSoon();
    loadHealth();
  }

  function onEvent (type, event) {
    if (event.lastEventId) live.lastId = Number(event.lastEventId);
    live.lastAt = Date.now();
    let data;
    try {
      data = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    live.queue.push({ type, data });
    if (live.queue.length === 1) requestAnimationFrame(flush);
  }

  // Applies the events that came since the last frame: many events, one layout.
  function flush () {
    const events = live.queue;
    live.queue = [];
    for (const { type, data } of events) {
      if (!data || typeof data.job !== 'string') continue;
      if (type === 'transition') {
        tableTransition(data);
        sideTransition(data);
      } else {
        tableStale(data);
        sideStale(data);
      }
      if (dialog.id === data.job && $('job-dialog').open) jobSoon();
    }
    statsSoon();
    tick();
  }

  function onReset (event) {
    let data = {};
    try {
      data = JSON.parse(event.data);
    } catch (e) {
      data = {};
    }
    if (data.resume !== undefined) live.lastId = Number(data.resume);
    banner('back', 'Some events were missed (' + (data.reason || 'the log moved on') +
      '): reloaded.');
    loadPage();
    loadSide();
    statsSoon();
  }

  // ---- Every second: ages and the time of the last event -------------------------------------

  function tick () {
    const now = serverNow();
    for (const span of document.querySelectorAll('.age[data-t]'))
      span.textContent = span.dataset.prefix + fmtAge(now - Number(span.dataset.t));
    $('last-event').textContent = live.lastAt
      ? 'last event ' + fmtTime(live.lastAt) + ' (' + fmtAge(Date.now() - live.lastAt) + ' ago)'
      : 'no event yet';
  }

  // ---- Wiring -------------------------------------------------------------------------------

  function debounce (fn, ms) {
    let timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function wire () {
    const typed = debounce(readForm, 300);
    for (const id of ['f-name', 'f-kind', 'f-backend']) $(id).addEventListener('input', typed);
    for (const id of ['f-state', 'f-stale', 'f-sort', 'f-limit'])
      $(id).addEventListener('change', readForm);
    $('filters').addEventListener('submit', (event) => event.preventDefault());
    for (const th of document.querySelectorAll('#jobs th[data-sort]')) {
      th.querySelector('button').addEventListener('click', () => {
        const key = th.dataset.sort;
        // The first click on a time sorts the newest first; on a word, A to Z.
        const descFirst = key === 'updated';
        setView({ sort: view.sort === key ? '-' + key
          : view.sort === '-' + key ? key : (descFirst ? '-' : '') + key });
      });
    }
    $('first').addEventListener('click', () => { view.page = 0; loadPage(); });
    $('prev').addEventListener('click', () => { view.page = Math.max(0, view.page - 1); loadPage(); });
    $('next').addEventListener('click', () => {
      if (!view.next) return;
      view.page++;
      loadPage();
    });
    $('news-button').addEventListener('click', () => { view.page = 0; loadPage(); });
    $('job-close').addEventListener('click', () => $('job-dialog').close());
    $('job-dialog').addEventListener('close', () => { dialog.id = null; });
    // A click on the backdrop (outside the dialog's box) closes it too.
    $('job-dialog').addEventListener('click', (event) => {
      if (event.target === $('job-dialog')) $('job-dialog').close();
    });
    window.addEventListener('hashchange', () => {
      readHash();
      restart(true);
    });
  }

  async function start () {
    buildCounts();
    readHash();
    syncForm();
    wire();
    tick();
    setInterval(tick, 1000);
    setInterval(loadHealth, HEALTH_EVERY);
    // One plain request first: with read_auth it asks for the token before the stream opens.
    await loadStats();
    connect();
  }

  start();
})();
