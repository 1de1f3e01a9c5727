// The dashboard of `posflow serve` in a real browser: Debian's chromium (/usr/bin/chromium)
// driven by playwright-core, which never downloads a browser of its own. Run by run.sh, which
// prepares a warehouse, a topic, a running `posflow run` and `posflow serve`, and passes them in
// the environment:
//   POSFLOW_BIN        the posflow binary
//   POSFLOW_DB         the test's database URL
//   POSFLOW_TOPIC      the test's topic (a `posflow run` is consuming it)
//   POSFLOW_BROKERS    Kafka bootstrap servers
//   POSFLOW_SERVE_URL  where `posflow serve` answers, e.g. http://127.0.0.1:41234/
//   POSFLOW_ARTIFACTS  where screenshots and timings go
//   CHROMIUM           the browser (default /usr/bin/chromium)
//
// What it proves: the page loads with no console error, no failed request and no HTTP error;
// every chart, the heat map, the low-stock table and the KPI tiles show exactly what `posflow
// report NAME --format json` prints for the same filters; changing the period and the store
// changes them accordingly; a sale produced while the page is open shows up in the KPIs without
// a reload; a hand-made bad message shows up in the dead-letter view with its reason, its
// source coordinates and its bytes escaped (and inert).

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set (run tests/browser/run.sh)`);
  return value;
};
const posflow = env('POSFLOW_BIN');
const db = env('POSFLOW_DB');
const topic = env('POSFLOW_TOPIC');
const brokers = env('POSFLOW_BROKERS', '127.0.0.1:9092');
const serveUrl = env('POSFLOW_SERVE_URL');
const artifacts = env('POSFLOW_ARTIFACTS');
const chromiumPath = env('CHROMIUM', '/usr/bin/chromium');

const chartReports = ['sales-by-day', 'sales-by-store', 'top-products', 'payment-mix'];
const allReports = ['kpis', ...chartReports, 'hourly', 'low-stock'];

let browser;
let page;
const problems = [];  // console errors, page errors, failed requests, HTTP errors
const timings = {};

/** `posflow report NAME --format json` for the filters, parsed. */
function cliReport(name, filters) {
  const args = ['report', name, '--format', 'json', '--db', db];
  if (name !== 'low-stock') args.push('--from', filters.from, '--to', filters.to);
  if (filters.store) args.push('--store', filters.store);
  return JSON.parse(execFileSync(posflow, args, { encoding: 'utf8' }));
}

const money = (value) => `${value < 0 ? '−$' : '$'}${new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(Math.abs(value))}`;
const count = (value) => new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 }).format(value);

function isoDate(date) {
  return date.toISOString().slice(0, 10);
}
function addDays(text, days) {
  const date = new Date(`${text}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return isoDate(date);
}

/** Waits for a refresh for exactly `filters` that completed after `afterRefresh`. */
async function waitForData(filters, afterRefresh) {
  await page.waitForFunction(([wanted, previous]) => {
    const state = window.__posflow;
    return state && state.ready && state.refreshes > previous && state.filters &&
      state.filters.from === wanted.from && state.filters.to === wanted.to &&
      state.filters.store === wanted.store;
  }, [filters, afterRefresh], { timeout: 15000 });
}

async function refreshCount() {
  return page.evaluate(() => (window.__posflow ? window.__posflow.refreshes : 0));
}

/** Every report, chart, the heat map, the table and the tiles against the CLI. */
async function expectPageEqualsCli(filters) {
  const shown = await page.evaluate(() => ({
    filters: window.__posflow.filters,
    reports: window.__posflow.reports,
    charts: window.__posflow.chartData(),
    heatmap: window.__posflow.heatmap,
    lowStockRows: document.querySelectorAll('#low-stock tbody tr:not(:has(td.empty))').length,
    tiles: {
      total: document.getElementById('kpi-total').textContent,
      transactions: document.getElementById('kpi-transactions').textContent,
      average_receipt: document.getElementById('kpi-average_receipt').textContent,
      items: document.getElementById('kpi-items').textContent,
      returned_amount: document.getElementById('kpi-returned_amount').textContent,
    },
  }));
  assert.deepEqual(shown.filters, filters);
  const cli = Object.fromEntries(allReports.map((name) => [name, cliReport(name, filters)]));
  for (const name of allReports) {
    assert.deepEqual(shown.reports[name], cli[name], `report ${name} differs from the CLI's`);
  }
  const expectedCharts = {
    'sales-by-day': { labels: cli['sales-by-day'].map((row) => row.sale_date),
      values: cli['sales-by-day'].map((row) => row.total) },
    'sales-by-store': { labels: cli['sales-by-store'].map((row) => `${row.store_id} · ${row.store}`),
      values: cli['sales-by-store'].map((row) => row.total) },
    'top-products': { labels: cli['top-products'].map((row) => row.product),
      values: cli['top-products'].map((row) => row.revenue) },
    'payment-mix': { labels: cli['payment-mix'].map((row) => row.payment_type),
      values: cli['payment-mix'].map((row) => row.total) },
  };
  assert.deepEqual(shown.charts, expectedCharts, 'a chart draws other figures than the CLI prints');
  const grid = {};
  for (const row of cli.hourly) (grid[row.iso_weekday] ??= {})[row.hour] = row.total;
  assert.deepEqual(shown.heatmap, grid, 'the heat map differs from report hourly');
  assert.equal(shown.lowStockRows, cli['low-stock'].length);
  const current = cli.kpis.find((row) => row.period === 'current');
  assert.deepEqual(shown.tiles, {
    total: money(current.total),
    transactions: count(current.transactions),
    average_receipt: current.average_receipt === null ? '–' : money(current.average_receipt),
    items: count(current.items),
    returned_amount: money(current.returned_amount),
  });
  return cli;
}

async function screenshot(name) {
  const file = path.join(artifacts, name);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      problems.push(`console ${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // A refresh cancelled by a newer one (a filter change) is not a failure.
    if (request.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
});

after(async () => {
  writeFileSync(path.join(artifacts, 'timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
  if (browser) await browser.close();
});

test('the page loads with no console error and shows data', async () => {
  const started = Date.now();
  await page.goto(serveUrl, { waitUntil: 'load' });
  await page.waitForFunction(() => window.__posflow && window.__posflow.ready, null, { timeout: 15000 });
  timings.first_data_ms = Date.now() - started;
  Object.assign(timings, await page.evaluate(() => {
    const [navigation] = performance.getEntriesByType('navigation');
    return {
      dom_content_loaded_ms: Math.round(navigation.domContentLoadedEventEnd),
      load_event_ms: Math.round(navigation.loadEventEnd),
      transferred_bytes: performance.getEntriesByType('resource')
        .reduce((sum, entry) => sum + entry.transferSize, navigation.transferSize),
    };
  }));
  console.log(`# page load: ${JSON.stringify(timings)}`);
  // Every request stayed on this server: the page works offline.
  const origins = await page.evaluate(() => performance.getEntriesByType('resource')
    .map((entry) => new URL(entry.name).origin));
  for (const origin of origins) assert.equal(origin, new URL(serveUrl).origin);
  assert.match(await page.textContent('#kpi-total'), /^\$[0-9,]+\.[0-9]{2}$/);
  await screenshot('dashboard.png');
  assert.deepEqual(problems, []);
});

test('every chart, the heat map, the table and the tiles equal posflow report', async () => {
  const filters = await page.evaluate(() => window.__posflow.filters);
  assert.equal(filters.store, '');
  const cli = await expectPageEqualsCli(filters);
  assert.ok(cli['sales-by-day'].length >= 2, 'the fixture has sales on several days');
  assert.ok(cli['sales-by-store'].length >= 2, 'the fixture has several stores');
});

test('changing the period and the store changes the charts accordingly', async () => {
  const before = await page.evaluate(() => window.__posflow.filters);
  const filters = { from: addDays(before.to, -2), to: before.to, store: 'S002' };
  let refreshes = await refreshCount();
  await page.selectOption('#filter-store', 'S002');
  await waitForData({ ...before, store: 'S002' }, refreshes);
  refreshes = await refreshCount();
  await page.fill('#filter-from', filters.from);
  await page.dispatchEvent('#filter-from', 'change');
  await waitForData(filters, refreshes);
  const cli = await expectPageEqualsCli(filters);
  assert.deepEqual(cli['sales-by-store'].map((row) => row.store_id), ['S002']);
  assert.ok(cli['sales-by-day'].length <= 3);
  assert.ok(cli['sales-by-day'].every((row) => row.sale_date >= filters.from));
  assert.match(new URL(page.url()).search, /store=S002/);
  await screenshot('dashboard-S002-3-days.png');
  assert.deepEqual(problems, []);
});

test('a sale produced now shows up in the KPIs without a reload', async () => {
  // Every store-local "today" is inside this period, whatever the time zone.
  const today = isoDate(new Date());
  const filters = { from: addDays(today, -13), to: addDays(today, 1), store: '' };
  await page.goto(`${serveUrl}?from=${filters.from}&to=${filters.to}`, { waitUntil: 'load' });
  await waitForData(filters, 0);
  await expectPageEqualsCli(filters);
  const receipts = await page.evaluate(() => window.__posflow.reports.kpis[0].transactions);
  await page.evaluate(() => { window.__sameDocument = true; });
  const sales = 25;
  // Live time (--rate): these receipts are sold now.
  execFileSync(posflow, ['produce', '--topic', topic, '--brokers', brokers, '--count',
    String(sales), '--rate', '200', '--seed', String(1000 + (Date.now() % 100000))], { stdio: 'ignore' });
  const started = Date.now();
  await page.waitForFunction((wanted) => window.__posflow.reports.kpis[0].transactions === wanted,
    receipts + sales, { timeout: 30000 });
  timings.produced_sale_on_page_ms = Date.now() - started;
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was reloaded');
  assert.equal(await page.textContent('#kpi-transactions'), count(receipts + sales));
  await expectPageEqualsCli(filters);
  assert.deepEqual(problems, []);
});

test('the dead-letter view shows an injected bad message with its reason', async () => {
  const newest = await page.evaluate(() => window.__posflow.deadLetters.dead_letters
    .reduce((best, letter) => Math.max(best, letter.id), 0));
  // Not JSON, with markup and a control byte: the page must show it as inert text.
  const payload = '{"transaction_id": "dash-test", <img src=x onerror="window.__xss=1"> \u0001 broken';
  const kcat = spawnSync('kcat', ['-P', '-b', brokers, '-t', topic, '-k', 'S001'], { input: payload });
  assert.equal(kcat.status, 0, `kcat: ${kcat.stderr}`);
  await page.waitForFunction((id) => window.__posflow.deadLetters.dead_letters.some(
    (letter) => letter.id > id), newest, { timeout: 30000 });
  const letter = await page.evaluate((id) => window.__posflow.deadLetters.dead_letters
    .find((entry) => entry.id > id), newest);
  assert.deepEqual(letter.reasons, ['json.syntax']);
  assert.equal(letter.topic, topic);

  await page.click(`#dead-letters-table a[href="#dead-letter/${letter.id}"]`);
  await page.waitForFunction((id) => window.__posflow.deadLetter?.id === id, letter.id);
  assert.equal(await page.isVisible('#dead-letter-view'), true);
  assert.equal(await page.isVisible('#dashboard-view'), false);
  assert.match(await page.textContent('#dead-letter-reasons'), /json\.syntax/);
  const facts = await page.textContent('#dead-letter-facts');
  assert.match(facts, new RegExp(`${topic} · partition ${letter.partition} · offset ${letter.offset}`));
  assert.equal(await page.textContent('#dead-letter-payload'),
    payload.replace('\u0001', '\\x01'), 'the payload is shown escaped, as dlq show prints it');
  assert.equal(await page.evaluate(() => document.querySelectorAll('#dead-letter-view img').length), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  // The same as `posflow dlq show`.
  const shown = execFileSync(posflow, ['dlq', 'show', String(letter.id), '--db', db], { encoding: 'utf8' });
  assert.match(shown, /reasons:\s+json\.syntax/);
  assert.ok(shown.includes(payload.replace('\u0001', '\\x01')));
  await screenshot('dead-letter.png');

  await page.click('#dead-letter-back');
  await page.waitForSelector('#dashboard-view', { state: 'visible' });
  assert.deepEqual(problems, []);
});

test('the pipeline section shows the topic\'s lag, rates and quarantine', async () => {
  const refreshes = await refreshCount();
  await page.waitForFunction((previous) => window.__posflow.refreshes > previous, refreshes,
    { timeout: 15000 });
  const status = await page.evaluate(() => window.__posflow.pipeline);
  assert.deepEqual(status.topics, [topic]);
  assert.equal(status.kafka.reachable, true);
  assert.equal(status.partitions.length, 6);
  assert.equal(status.total_lag, 0);
  assert.ok(status.dead_letters.quarantined >= 1);
  assert.ok(status.dead_letters.by_reason.some((entry) => entry.reason === 'json.syntax'));
  assert.ok(status.freshness.receipts >= 25, 'the live sales give a freshness');
  assert.equal(await page.locator('#lag-table tbody tr').count(), 6);
  await screenshot('dashboard-after-live-sales.png');
  assert.deepEqual(problems, []);
});
