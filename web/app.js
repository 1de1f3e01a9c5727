// posflow dashboard: filters, polling, routing. The page keeps its filters in the address
// (?from=&to=&store=, so a reload or a shared link shows the same view) and the dead-letter
// view in the fragment (#dead-letter/<id>). Every refresh_seconds (from /api/meta) it fetches
// every report and the pipeline's state again, without reloading the page.
//
// For tests and the curious, window.__posflow holds what was last fetched and drawn:
//   ready          true once the first refresh has completed
//   refreshes      how many refreshes have completed
//   filters        {from, to, store} of the data shown
//   reports        {name: rows}: each report's JSON as the API returned it
//   heatmap        {iso_weekday: {hour: total}} as drawn
//   pipeline, deadLetters, deadLetter, check   the last answers of those endpoints
//   chartData()    {report name: {labels, values}} read back from the Chart.js charts
//   errors         the messages shown in the error banner, in order

import { getJson, getReport } from './js/api.js';
import * as format from './js/format.js';
import { renderCheck, renderDeadLetter, renderDeadLetters, renderPipeline } from './js/pipeline.js';
import { SalesCharts, renderHeatmap, renderKpis, renderLowStock } from './js/sales.js';

const reportNames = ['kpis', 'sales-by-day', 'sales-by-store', 'top-products', 'hourly',
  'payment-mix', 'low-stock'];

const state = {
  meta: null,
  filters: { from: '', to: '', store: '' },
  reasonFilter: '',
  inFlight: null,       // the AbortController of the refresh running, if any
  timer: null,
  charts: null,
};

const debug = {
  ready: false,
  refreshes: 0,
  filters: null,
  reports: {},
  heatmap: {},
  pipeline: null,
  deadLetters: null,
  deadLetter: null,
  check: null,
  errors: [],
  chartData: () => (state.charts ? state.charts.data() : {}),
};
window.__posflow = debug;

function showError(message) {
  const banner = document.getElementById('error-banner');
  if (message) {
    banner.textContent = message;
    banner.classList.remove('hidden');
    if (debug.errors[debug.errors.length - 1] !== message) debug.errors.push(message);
  } else {
    banner.classList.add('hidden');
  }
  document.getElementById('live-dot').className = `dot ${message ? 'error' : 'ok'}`;
}

function setLive(text) {
  document.getElementById('live-text').textContent = text;
}

// ---- Filters ------------------------------------------------------------------------------

function defaultFilters(meta) {
  const to = meta.last_sale_date ?? format.isoDate(new Date());
  return { from: format.addDays(to, -6), to, store: '' };
}

function filtersFromAddress(meta) {
  const params = new URLSearchParams(window.location.search);
  const filters = defaultFilters(meta);
  const isDate = (text) => /^\d{4}-\d{2}-\d{2}$/.test(text ?? '');
  if (isDate(params.get('from'))) filters.from = params.get('from');
  if (isDate(params.get('to'))) filters.to = params.get('to');
  if (filters.from > filters.to) filters.from = filters.to;
  const store = params.get('store') ?? '';
  if (meta.stores.some((entry) => entry.store_id === store)) filters.store = store;
  return filters;
}

function writeAddress() {
  const params = new URLSearchParams();
  params.set('from', state.filters.from);
  params.set('to', state.filters.to);
  if (state.filters.store) params.set('store', state.filters.store);
  window.history.replaceState(null, '', `?${params}${window.location.hash}`);
}

function showFilters() {
  document.getElementById('filter-from').value = state.filters.from;
  document.getElementById('filter-to').value = state.filters.to;
  document.getElementById('filter-store').value = state.filters.store;
  const days = format.daysBetween(state.filters.from, state.filters.to);
  const store = state.meta.stores.find((entry) => entry.store_id === state.filters.store);
  document.getElementById('period-label').textContent =
    `${format.longDate(state.filters.from)} – ${format.longDate(state.filters.to)} · ` +
    `${days} day${days === 1 ? '' : 's'} · ${store ? `${store.store_id} ${store.name}` : 'all stores'}`;
}

function applyFilters(filters) {
  if (filters.from > filters.to) {
    showError(`From ${filters.from} is after To ${filters.to}.`);
    return;
  }
  state.filters = filters;
  writeAddress();
  showFilters();
  refresh();
}

function readFilterForm() {
  return {
    from: document.getElementById('filter-from').value,
    to: document.getElementById('filter-to').value,
    store: document.getElementById('filter-store').value,
  };
}

function setUpFilters() {
  const select = document.getElementById('filter-store');
  for (const store of state.meta.stores) {
    const option = document.createElement('option');
    option.value = store.store_id;
    option.textContent = `${store.store_id} · ${store.name}`;
    select.append(option);
  }
  for (const id of ['filter-from', 'filter-to', 'filter-store']) {
    document.getElementById(id).addEventListener('change', () => {
      const filters = readFilterForm();
      if (filters.from && filters.to) applyFilters(filters);
    });
  }
  for (const button of document.querySelectorAll('.presets button')) {
    button.addEventListener('click', () => {
      const to = state.meta.last_sale_date ?? format.isoDate(new Date());
      applyFilters({ ...state.filters, from: format.addDays(to, 1 - Number(button.dataset.days)), to });
    });
  }
  document.getElementById('filters').addEventListener('submit', (event) => event.preventDefault());
}

// ---- Refresh ------------------------------------------------------------------------------

async function refresh() {
  if (state.inFlight) state.inFlight.abort();
  const controller = new AbortController();
  state.inFlight = controller;
  window.clearTimeout(state.timer);
  const filters = { ...state.filters };
  try {
    const [reports, pipeline, deadLetters] = await Promise.all([
      Promise.all(reportNames.map((name) => getReport(name, filters, controller.signal))),
      getJson('/api/pipeline', {}, controller.signal),
      getJson('/api/dead-letters', { limit: 25, reason: state.reasonFilter }, controller.signal),
    ]);
    const byName = Object.fromEntries(reportNames.map((name, index) => [name, reports[index]]));
    renderKpis(byName.kpis, format.daysBetween(filters.from, filters.to));
    state.charts.renderSalesByDay(byName['sales-by-day']);
    state.charts.renderSalesByStore(byName['sales-by-store']);
    state.charts.renderTopProducts(byName['top-products']);
    state.charts.renderPaymentMix(byName['payment-mix']);
    debug.heatmap = renderHeatmap(byName.hourly);
    renderLowStock(byName['low-stock']);
    renderPipeline(pipeline, (reason) => { state.reasonFilter = reason; refresh(); });
    renderDeadLetters(deadLetters, state.reasonFilter, () => { state.reasonFilter = ''; refresh(); });
    Object.assign(debug, { reports: byName, pipeline, deadLetters, filters });
    debug.refreshes += 1;
    debug.ready = true;
    showError('');
    setLive(`live · updated ${new Date().toLocaleTimeString('en-GB')}`);
  } catch (error) {
    if (error.name === 'AbortError') return;
    showError(error.message);
    setLive('retrying…');
  } finally {
    if (state.inFlight === controller) {
      state.inFlight = null;
      state.timer = window.setTimeout(refresh, state.meta.refresh_seconds * 1000);
    }
  }
}

// ---- Routing: the dashboard or one dead letter ----------------------------------------------

async function route() {
  const match = /^#dead-letter\/(\d+)$/.exec(window.location.hash);
  document.getElementById('dashboard-view').classList.toggle('hidden', Boolean(match));
  document.getElementById('dead-letter-view').classList.toggle('hidden', !match);
  if (!match) return;
  window.scrollTo(0, 0);
  debug.deadLetter = null;
  try {
    const letter = await getJson(`/api/dead-letters/${match[1]}`);
    renderDeadLetter(letter);
    debug.deadLetter = letter;
  } catch (error) {
    showError(error.message);
  }
}

function setUpCheck() {
  const button = document.getElementById('run-check');
  button.addEventListener('click', async () => {
    button.disabled = true;
    document.getElementById('check-verdict').textContent = 'running…';
    try {
      debug.check = await getJson('/api/check');
      renderCheck(debug.check);
    } catch (error) {
      document.getElementById('check-verdict').textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });
}

async function start() {
  try {
    state.meta = await getJson('/api/meta');
  } catch (error) {
    showError(error.message);
    setLive('retrying…');
    window.setTimeout(start, 3000);
    return;
  }
  document.getElementById('footer-version').textContent = `posflow ${state.meta.version}`;
  state.charts = new SalesCharts();
  state.filters = filtersFromAddress(state.meta);
  setUpFilters();
  setUpCheck();
  writeAddress();
  showFilters();
  window.addEventListener('hashchange', route);
  route();
  refresh();
}

start();
