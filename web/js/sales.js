// The Sales section: KPI tiles (report kpis), sales by day, by store, top products, payment mix
// (Chart.js), the weekday × hour heat map and the low-stock table. Each render takes a report's
// rows exactly as /api/reports/<name> returned them, and the charts are fed those rows' fields
// as they are, so what is drawn is what `posflow report` prints.

import * as format from './format.js';

const { Chart } = window;

const palette = ['#2563eb', '#0d9488', '#f59e0b', '#db2777', '#7c3aed', '#64748b', '#16a34a',
  '#ea580c', '#0891b2', '#9333ea'];

Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
Chart.defaults.color = '#475569';
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.plugins.legend.labels.boxWidth = 12;

const moneyTick = (value) => `$${format.count(value)}`;

function barOptions(tooltipLabel) {
  return {
    indexAxis: 'y',
    plugins: {
      legend: { display: false },
      tooltip: { callbacks: { label: tooltipLabel } },
    },
    datasets: { bar: { maxBarThickness: 26 } },
    scales: {
      x: { beginAtZero: true, ticks: { callback: moneyTick, maxTicksLimit: 6, maxRotation: 0 },
        grid: { color: '#eef2f7' } },
      y: { grid: { display: false }, ticks: { autoSkip: false, font: { size: 11 } } },
    },
  };
}

/** The dashboard's charts, created once and updated in place on every refresh. */
export class SalesCharts {
  constructor() {
    this.byDay = new Chart(document.getElementById('chart-sales-by-day'), {
      type: 'line',
      data: { labels: [], datasets: [{ label: 'Sales', data: [], borderColor: palette[0],
        backgroundColor: 'rgba(37, 99, 235, 0.12)', fill: true, tension: 0.25, pointRadius: 3 }] },
      options: {
        interaction: { mode: 'index', intersect: false },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: {
            title: (items) => format.longDate(items[0].label),
            label: (item) => ` ${format.money(item.raw)} · ${format.count(this.dayRows[item.dataIndex].transactions)} receipts`,
          } },
        },
        scales: {
          x: { ticks: { callback: (value, index) => format.shortDate(this.byDay.data.labels[index]) },
            grid: { display: false } },
          y: { beginAtZero: true, ticks: { callback: moneyTick }, grid: { color: '#eef2f7' } },
        },
      },
    });
    this.dayRows = [];
    this.byStore = new Chart(document.getElementById('chart-sales-by-store'), {
      type: 'bar',
      data: { labels: [], datasets: [{ label: 'Sales', data: [], backgroundColor: palette[0], borderRadius: 4 }] },
      options: barOptions((item) => ` ${format.money(item.raw)} · ${format.count(this.storeRows[item.dataIndex].transactions)} receipts`),
    });
    this.storeRows = [];
    this.topProducts = new Chart(document.getElementById('chart-top-products'), {
      type: 'bar',
      data: { labels: [], datasets: [{ label: 'Revenue', data: [], backgroundColor: palette[1], borderRadius: 4 }] },
      options: barOptions((item) => ` ${format.money(item.raw)} · ${format.decimal2(this.productRows[item.dataIndex].revenue_pct)} % · ${format.count(this.productRows[item.dataIndex].quantity)} units`),
    });
    this.productRows = [];
    this.paymentMix = new Chart(document.getElementById('chart-payment-mix'), {
      type: 'doughnut',
      data: { labels: [], datasets: [{ data: [], backgroundColor: palette, borderWidth: 2 }] },
      options: {
        cutout: '58%',
        plugins: {
          legend: { position: 'right' },
          tooltip: { callbacks: {
            label: (item) => ` ${item.label}: ${format.money(item.raw)} (${format.decimal2(this.paymentRows[item.dataIndex].total_pct)} %)`,
          } },
        },
      },
    });
    this.paymentRows = [];
  }

  renderSalesByDay(rows) {
    this.dayRows = rows;
    this.byDay.data.labels = rows.map((row) => row.sale_date);
    this.byDay.data.datasets[0].data = rows.map((row) => row.total);
    this.byDay.update();
  }

  renderSalesByStore(rows) {
    this.storeRows = rows;
    this.byStore.data.labels = rows.map((row) => `${row.store_id} · ${row.store ?? ''}`);
    this.byStore.data.datasets[0].data = rows.map((row) => row.total);
    this.byStore.update();
  }

  renderTopProducts(rows) {
    this.productRows = rows;
    this.topProducts.data.labels = rows.map((row) => row.product ?? row.product_id);
    this.topProducts.data.datasets[0].data = rows.map((row) => row.revenue);
    this.topProducts.update();
  }

  renderPaymentMix(rows) {
    this.paymentRows = rows;
    this.paymentMix.data.labels = rows.map((row) => row.payment_type);
    this.paymentMix.data.datasets[0].data = rows.map((row) => row.total);
    this.paymentMix.update();
  }

  /** What each chart draws now: for the browser test (window.__posflow.chartData()). */
  data() {
    const read = (chart) => ({
      labels: [...chart.data.labels],
      values: [...chart.data.datasets[0].data],
    });
    return {
      'sales-by-day': read(this.byDay),
      'sales-by-store': read(this.byStore),
      'top-products': read(this.topProducts),
      'payment-mix': read(this.paymentMix),
    };
  }
}

function setText(id, text) {
  document.getElementById(id).textContent = text;
}

/**
 * The tiles from report kpis: the "current" row, and against the "previous" one a change in
 * percent. `upIsGood` says which direction is coloured as good (fewer returns are good).
 */
export function renderKpis(rows, days) {
  const current = rows.find((row) => row.period === 'current');
  const previous = rows.find((row) => row.period === 'previous');
  const tiles = [
    { key: 'total', show: format.money, upIsGood: true },
    { key: 'transactions', show: format.count, upIsGood: true },
    { key: 'average_receipt', show: format.money, upIsGood: true },
    { key: 'items', show: format.count, upIsGood: true },
    { key: 'returned_amount', show: format.money, upIsGood: false },
  ];
  for (const tile of tiles) {
    const value = current ? current[tile.key] : null;
    setText(`kpi-${tile.key}`, tile.show(value));
    const delta = document.getElementById(`kpi-${tile.key}-delta`);
    delta.replaceChildren();
    if (tile.key === 'returned_amount' && current) {
      delta.append(`${format.count(current.returned_items)} units · `);
    }
    if (!previous) {
      delta.append('no previous period');
      continue;
    }
    const before = previous[tile.key];
    const label = ` vs ${tile.show(before)} the previous ${days === 1 ? 'day' : `${days} days`}`;
    const change = document.createElement('span');
    if (before === null || value === null || before === 0) {
      change.className = 'flat';
      change.textContent = value === before || (value === 0 && before === null) ? '±0' : 'new';
    } else {
      const percent = ((value - before) / Math.abs(before)) * 100;
      const rounded = Math.round(percent * 10) / 10;
      const better = tile.upIsGood ? rounded > 0 : rounded < 0;
      change.className = rounded === 0 ? 'flat' : better ? 'up' : 'down';
      change.textContent = `${rounded > 0 ? '▲ +' : rounded < 0 ? '▼ ' : '±'}${format.decimal1(rounded)} %`;
    }
    delta.append(change, label);
  }
}

const weekdays = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/**
 * The heat map from report hourly: one row per ISO weekday, one cell per store-local hour,
 * shaded by the hour's total. Returns the grid drawn ({iso_weekday: {hour: total}}) for the test.
 */
export function renderHeatmap(rows) {
  const table = document.getElementById('heatmap');
  const cells = new Map(rows.map((row) => [`${row.iso_weekday}:${row.hour}`, row]));
  const max = rows.reduce((best, row) => Math.max(best, row.total), 0);
  const grid = {};
  const head = document.createElement('tr');
  head.append(document.createElement('th'));
  for (let hour = 0; hour < 24; hour += 1) {
    const th = document.createElement('th');
    th.textContent = hour % 3 === 0 ? String(hour) : '';
    head.append(th);
  }
  const body = [head];
  for (let day = 1; day <= 7; day += 1) {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.className = 'day';
    th.textContent = weekdays[day - 1].slice(0, 3);
    tr.append(th);
    for (let hour = 0; hour < 24; hour += 1) {
      const td = document.createElement('td');
      const row = cells.get(`${day}:${hour}`);
      if (row) {
        (grid[day] ??= {})[hour] = row.total;
        const share = max > 0 ? Math.max(row.total, 0) / max : 0;
        td.style.backgroundColor = `rgba(37, 99, 235, ${(0.08 + 0.92 * share).toFixed(3)})`;
        td.title = `${weekdays[day - 1]} ${hour}:00–${hour + 1}:00 · ${format.money(row.total)} · ${format.count(row.transactions)} receipts`;
        td.dataset.total = String(row.total);
      } else {
        td.title = `${weekdays[day - 1]} ${hour}:00–${hour + 1}:00 · no sales`;
      }
      tr.append(td);
    }
    body.push(tr);
  }
  table.replaceChildren(...body);
  setText('heatmap-legend', rows.length
    ? `Darker is busier; the busiest hour sold ${format.money(max)}. Hover a cell for its figures.`
    : 'No sales in this period.');
  return grid;
}

/** The low-stock table from report low-stock (the stock as it is now, per the store filter). */
export function renderLowStock(rows) {
  const tbody = document.querySelector('#low-stock tbody');
  const counts = { oversold: 0, out: 0, low: 0 };
  const trs = rows.map((row) => {
    counts[row.status] = (counts[row.status] ?? 0) + 1;
    const tr = document.createElement('tr');
    const cell = (text, className) => {
      const td = document.createElement('td');
      td.textContent = text;
      if (className) td.className = className;
      return td;
    };
    const status = document.createElement('td');
    const badge = document.createElement('span');
    badge.className = `badge ${row.status}`;
    badge.textContent = row.status;
    status.append(badge);
    tr.append(cell(`${row.store_id} · ${row.store ?? ''}`), cell(`${row.product ?? row.product_id}`),
      cell(format.count(row.quantity), 'num'), cell(format.count(row.reorder_point), 'num'),
      cell(format.count(row.shortfall), 'num'), status);
    return tr;
  });
  if (trs.length === 0) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = 6;
    td.className = 'empty';
    td.textContent = 'Nothing below its reorder point.';
    tr.append(td);
    trs.push(tr);
  }
  tbody.replaceChildren(...trs);
  setText('low-stock-summary', rows.length
    ? `${format.count(rows.length)} below the reorder point: ${counts.oversold} oversold, ${counts.out} out, ${counts.low} low`
    : '');
}
