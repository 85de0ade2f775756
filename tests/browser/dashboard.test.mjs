// The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core.
// Started by tests/integration/test_http_browser.c, which owns jobd (the real binary with the
// demo and http plugins) and talks with this script by lines: this script prints "STOP" when
// it wants jobd stopped and waits for "stopped" on its stdin, then "START" and "started", then
// "AUTH" and "auth" (jobd restarted with read_auth).
//
//   node dashboard.test.mjs URL TOKEN_FILE SCREENSHOT
//
// Environment: CHROMIUM (the browser, default /usr/bin/chromium), DEADLINE_MS (the whole run,
// default 50000). Every wait has a deadline; on any failure it prints why, closes the browser
// and exits 1.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const [url, tokenFile, screenshot] = process.argv.slice(2);
if (!url || !tokenFile || !screenshot) {
  console.error('usage: node dashboard.test.mjs URL TOKEN_FILE SCREENSHOT');
  process.exit(2);
}
const started = Date.now();
const deadline = started + (Number(process.env.DEADLINE_MS) || 50000);
const token = readFileSync(tokenFile, 'utf8').split('\n')[0].trim();
const XSS = '<img src=x onerror=alert(1)>';

let browser = null;
let page = null;
function log (...words) {
  console.error('[browser ' + ((Date.now() - started) / 1000).toFixed(1) + 's]', ...words);
}

// Ends the run: closes chromium (and its profile folder) whatever happened.
async function finish (code, why) {
  if (why) console.error('FAIL: ' + why);
  try {
    if (page && code !== 0) {
      // What the page showed when it failed, next to the screenshot of a passing run.
      console.error('rows: ' + await page.evaluate(() => [...document.querySelectorAll(
        '#rows tr')].map((row) => row.dataset.job + ' ' + row.dataset.state).join(', ')) +
        '\naddress: ' + page.url());
      await page.screenshot({ path: screenshot.replace(/\.png$/, '') + '-failed.png',
        fullPage: true });
    }
  } catch (e) { /* the page may be gone */ }
  try {
    if (browser) await browser.close();
  } catch (e) { /* it may be gone already */ }
  process.stdout.write(code === 0 ? 'PASS\n' : 'FAIL\n');
  process.exit(code);
}
// The whole run's deadline, and the parent's end (stdin closed) end it too.
setTimeout(() => finish(1, 'the run passed its deadline'), deadline - Date.now()).unref();
process.on('unhandledRejection', (e) => finish(1, String(e && e.stack ? e.stack : e)));

const lines = createInterface({ input: process.stdin });
const heard = [];
const waiters = [];
lines.on('line', (line) => {
  heard.push(line.trim());
  while (waiters.length) waiters.shift()();
});
lines.on('close', () => finish(1, 'the test stopped talking (stdin closed)'));
async function hear (word) {
  while (!heard.includes(word)) {
    if (Date.now() > deadline) throw new Error('never heard ' + word);
    await new Promise((resolve) => waiters.push(resolve));
  }
}

const left = () => Math.max(1000, deadline - Date.now());

async function api (method, path, body) {
  const response = await fetch(url + path, {
    method,
    headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined
  });
  const value = await response.json();
  if (!response.ok) throw new Error(method + ' ' + path + ': ' + response.status + ' ' +
    JSON.stringify(value));
  return value;
}
const submit = async (spec) => (await api('POST', '/api/v1/jobs', { kind: 'demo', demo: true,
  ...spec })).job;

function check (ok, why) {
  if (!ok) throw new Error(why);
}

async function main () {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // CI runs as root: no sandbox there. playwright gives chromium a fresh profile (a
    // temporary user-data-dir, removed at close): no cache, no storage from another run.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
    timeout: left()
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  page = await context.newPage();
  page.setDefaultTimeout(15000);

  // Whatever goes wrong in the page is collected, then asserted empty while jobd runs.
  const problems = [];
  let watching = true;
  page.on('console', (message) => {
    if (watching && message.type() === 'error') problems.push('console: ' + message.text());
  });
  page.on('pageerror', (error) => problems.push('page error: ' + error.message));
  page.on('requestfailed', (request) => {
    // A stream the page itself closes (a reload of it) reports as aborted: not a failure.
    const aborted = /ERR_ABORTED/.test(request.failure()?.errorText || '');
    if (watching && !aborted) problems.push('request failed: ' + request.url() + ' ' +
      request.failure()?.errorText);
  });
  page.on('response', (response) => {
    if (watching && response.status() >= 400)
      problems.push('HTTP ' + response.status() + ': ' + response.url());
  });
  page.on('dialog', (dialog) => {
    problems.push('a JavaScript dialog opened: ' + dialog.message());
    dialog.dismiss().catch(() => {});
  });

  // Jobs from before the page loads: a hostile name, a few to fill the table.
  const xss = await submit({ name: XSS });
  for (let index = 0; index < 4; index++) await submit({ name: 'etl-' + index });
  log('submitted', xss, 'and 4 more');

  await page.goto(url + '/', { waitUntil: 'load', timeout: left() });
  await page.waitForSelector('#live[data-live="live"]', { timeout: left() });
  await page.waitForSelector(`tr[data-job="${xss}"]`);
  log('page live, table loaded');

  // The hostile name is text, in the table and wherever else it shows.
  const name = await page.textContent(`tr[data-job="${xss}"] td.c-name`);
  check(name === XSS, 'the name shows as ' + JSON.stringify(name) + ', not as its text');
  check(await page.locator('main img, dialog img').count() === 0, 'an <img> got into the page');

  // Jobs submitted now come through the event stream: seen RUNNING, then final, no reload.
  await page.evaluate(() => { window.jobdSamePage = true; });
  const movers = [await submit({ name: 'live-a' }), await submit({ name: 'live-b' })];
  // Two consecutive jobs: at most one is the demo's every third job, which fails.
  const finals = {};
  await Promise.all(movers.map(async (id) => {
    await page.waitForSelector(`tr[data-job="${id}"][data-state="RUNNING"]`, { timeout: left() });
    log(id, 'RUNNING on screen');
    const row = await page.waitForSelector(`tr[data-job="${id}"][data-state="SUCCEEDED"], ` +
      `tr[data-job="${id}"][data-state="FAILED"]`, { timeout: left() });
    finals[id] = await row.getAttribute('data-state');
    log(id, finals[id], 'on screen');
  }));
  const succeeded = movers.find((id) => finals[id] === 'SUCCEEDED');
  check(succeeded, 'no job went RUNNING -> SUCCEEDED on screen: ' + JSON.stringify(finals));
  check(await page.evaluate(() => window.jobdSamePage === true), 'the page was reloaded');
  check(await page.textContent(`tr[data-job="${succeeded}"] .c-state`) === 'SUCCEEDED',
    'the row does not say SUCCEEDED');

  // A failed job (the demo fails every third) shows its reason, in the table and the list.
  await page.waitForSelector('#failures li[data-job] .reason', { timeout: left() });

  // The state filter: only SUCCEEDED rows, as many as jobd counts (a page of 50 at most).
  const stats = await api('GET', '/api/v1/stats');
  await page.selectOption('#f-state', 'SUCCEEDED');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#rows tr')];
    return rows.length > 0 && rows.every((row) => row.dataset.state === 'SUCCEEDED') &&
      !document.getElementById('jobs').hasAttribute('aria-busy');
  }, null, { timeout: left() });
  const shown = await page.locator('#rows tr').count();
  const count = stats.counts.SUCCEEDED;
  const matched = await page.textContent('#matched');
  check(shown === Math.min(count, 50) && matched.includes(count.toLocaleString('en')),
    `the filter shows ${shown} jobs (${matched}), jobd has ${count} SUCCEEDED`);
  check(page.url().includes('state=SUCCEEDED'), 'the filter is not in the address: ' + page.url());
  check(!page.url().includes(token), 'the token is in the address bar');
  await page.fill('#f-name', 'live-');
  await page.waitForFunction(() => [...document.querySelectorAll('#rows td.c-name')]
    .every((cell) => cell.textContent.includes('live-')), null, { timeout: left() });
  await page.fill('#f-name', '');
  await page.selectOption('#f-state', '');
  await page.waitForSelector(`tr[data-job="${xss}"]`);
  log('filters work');

  // The timeline: from the keyboard (the id is a button), every transition, then Escape.
  await page.focus(`tr[data-job="${succeeded}"] td.c-id button`);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#job-dialog[open] table.history tbody tr');
  const steps = await page.locator('#job-dialog table.history tbody tr').count();
  check(steps >= 4, 'the timeline has ' + steps + ' transitions, not the 4 of a demo job');
  const last = await page.textContent('#job-dialog table.history tbody tr:last-child');
  check(last.includes('SUCCEEDED'), 'the timeline ends with ' + last);
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.getElementById('job-dialog').open);
  await page.click(`tr[data-job="${xss}"] td.c-id button`);
  await page.waitForSelector('#job-dialog[open] table.history tbody tr');
  check((await page.textContent('#job-dialog dl.facts')).includes(XSS),
    'the timeline does not show the name as text');
  check(await page.locator('main img, dialog img').count() === 0, 'an <img> got into the dialog');
  await page.click('#job-close');
  await page.waitForFunction(() => !document.getElementById('job-dialog').open);
  log('timeline works');

  await page.screenshot({ path: screenshot, fullPage: true });
  check(problems.length === 0, 'while jobd ran:\n  ' + problems.join('\n  '));

  // jobd stops: the page says the stream dropped; jobd is back: the page says so.
  watching = false; // the stopped server's refused connections are expected now
  process.stdout.write('STOP\n');
  await hear('stopped');
  await page.waitForSelector('#banner[data-kind="down"]:not([hidden])', { timeout: left() });
  await page.waitForSelector('#live[data-live="down"]');
  log('the banner says the stream dropped');
  process.stdout.write('START\n');
  await hear('started');
  await page.waitForSelector('#banner[data-kind="back"]:not([hidden])', { timeout: left() });
  await page.waitForSelector('#live[data-live="live"]');
  log('the banner says it is back');
  // After the restart the stream resumes: a job submitted now still reaches the table.
  const after = await submit({ name: 'after-restart' });
  await page.waitForSelector(`tr[data-job="${after}"]`, { timeout: left() });
  check(!problems.some((p) => p.startsWith('page error')), problems.join('\n'));
  log('resumed after the restart');

  // jobd again with read_auth: a new tab asks for the token at the API's first 401, keeps it
  // for the tab (sessionStorage), never in the address, and goes live with it.
  await page.close();
  process.stdout.write('AUTH\n');
  await hear('auth');
  const tab = page = await context.newPage();
  const later = [];
  tab.on('pageerror', (error) => later.push('page error: ' + error.message));
  tab.on('console', (message) => {
    // The 401 that makes the page ask is expected (chromium logs it as an error).
    if (message.type() === 'error' && !/status of 401/.test(message.text()))
      later.push('console: ' + message.text());
  });
  tab.on('dialog', (dialog) => later.push('a JavaScript dialog opened: ' + dialog.message()));
  await tab.goto(url + '/', { waitUntil: 'load', timeout: left() });
  await tab.waitForSelector('#auth-dialog[open] #auth-token', { timeout: left() });
  await tab.fill('#auth-token', token);
  await tab.press('#auth-token', 'Enter');
  await tab.waitForSelector('#live[data-live="live"]', { timeout: left() });
  await tab.waitForSelector(`tr[data-job="${after}"]`, { timeout: left() });
  check(await tab.evaluate(() => sessionStorage.getItem('jobd.token')) === token,
    'the token is not kept in sessionStorage');
  check(!tab.url().includes(token), 'the token is in the address bar: ' + tab.url());
  // The stream takes it too: a job submitted now reaches the table live.
  const authed = await submit({ name: 'with-token' });
  await tab.waitForSelector(`tr[data-job="${authed}"]`, { timeout: left() });
  check(later.length === 0, 'with read_auth:\n  ' + later.join('\n  '));
  log('read_auth: the page asked for the token and went live with it');
}

main().then(() => finish(0), (error) => finish(1, error && error.stack ? error.stack : error));
