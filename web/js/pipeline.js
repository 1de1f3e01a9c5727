// The Pipeline section (/api/pipeline, /api/dead-letters, /api/check) and the dead-letter
// detail view (/api/dead-letters/<id>). Every text from the server, dead-letter bytes above
// all, is put on the page with textContent, never as HTML.

import * as format from './format.js';

function setText(id, text) {
  document.getElementById(id).textContent = text;
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function emptyRow(columns, text) {
  const tr = document.createElement('tr');
  const td = cell(text, 'empty');
  td.colSpan = columns;
  tr.append(td);
  return tr;
}

function badge(text, className) {
  const span = document.createElement('span');
  span.className = `badge ${className}`;
  span.textContent = text;
  return span;
}

/** The link to a dead letter's detail view. */
export function deadLetterHref(id) {
  return `#dead-letter/${id}`;
}

/** The reason filter a "by reason" row links to: the code up to its first line index. */
function reasonPrefix(reason) {
  const bracket = reason.indexOf('[');
  return bracket < 0 ? reason : reason.slice(0, bracket);
}

export function renderPipeline(status, onReason) {
  setText('pipeline-topics', `topic ${status.topics.join(', ')} · group ${status.group}`);
  setText('stat-lag', status.total_lag === null ? '–' : format.count(status.total_lag));
  setText('stat-lag-note', status.kafka.reachable
    ? 'messages behind the topic\'s end'
    : `Kafka: ${status.kafka.error}`);
  const rate = (value) => (value === null ? '–' : format.decimal1(value));
  setText('stat-in', rate(status.throughput.consumed_per_second));
  setText('stat-loaded', rate(status.throughput.loaded_per_second));
  const { freshness } = status;
  setText('stat-freshness', freshness.receipts === 0
    ? '–'
    : `${format.duration(freshness.p50_seconds)} / ${format.duration(freshness.p99_seconds)}`);
  setText('stat-freshness-note', `sale → warehouse, ${format.count(freshness.receipts)} live receipts loaded in the last ${freshness.window_minutes} min`);
  const ages = status.last_commit;
  const newest = [ages.ingest_age_seconds, ages.etl_age_seconds].filter((age) => age !== null);
  setText('stat-commit', newest.length ? `${format.duration(Math.min(...newest))} ago` : 'never');
  setText('stat-commit-note', `ingest ${format.duration(ages.ingest_age_seconds)} · ETL ${format.duration(ages.etl_age_seconds)}`);
  setText('stat-dead-letters', format.count(status.dead_letters.quarantined));
  setText('stat-duplicates', `${format.count(status.dead_letters.total)} ever · ${format.count(status.duplicates)} duplicates skipped`);

  const lagRows = status.partitions.map((partition) => {
    const tr = document.createElement('tr');
    tr.append(cell(partition.topic), cell(String(partition.partition), 'num'),
      cell(format.count(partition.next_offset), 'num'), cell(format.count(partition.high_watermark), 'num'),
      cell(format.count(partition.lag), 'num'), cell(partition.updated_at ?? 'nothing stored yet'));
    return tr;
  });
  document.querySelector('#lag-table tbody').replaceChildren(
    ...(lagRows.length ? lagRows : [emptyRow(6, 'No partition known yet.')]));

  const reasonRows = status.dead_letters.by_reason.map((entry) => {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    const link = document.createElement('a');
    link.href = '#pipeline';
    link.append(badge(entry.reason, 'reason'));
    link.title = 'Show these dead letters below';
    link.addEventListener('click', (event) => {
      event.preventDefault();
      onReason(reasonPrefix(entry.reason));
    });
    td.append(link);
    tr.append(td, cell(format.count(entry.count), 'num'));
    return tr;
  });
  document.querySelector('#reasons-table tbody').replaceChildren(
    ...(reasonRows.length ? reasonRows : [emptyRow(2, 'No dead letters in quarantine.')]));
}

export function renderDeadLetters(list, reason, onClear) {
  const filter = document.getElementById('dead-letters-filter');
  filter.replaceChildren(`newest first, at most ${list.limit}`);
  if (reason) {
    const clear = document.createElement('a');
    clear.href = '#pipeline';
    clear.textContent = 'show all';
    clear.addEventListener('click', (event) => {
      event.preventDefault();
      onClear();
    });
    filter.append(` · reason ${reason}… (`, clear, ')');
  }
  const rows = list.dead_letters.map((letter) => {
    const tr = document.createElement('tr');
    const id = document.createElement('td');
    id.className = 'num';
    const link = document.createElement('a');
    link.href = deadLetterHref(letter.id);
    link.textContent = String(letter.id);
    id.append(link);
    const reasons = document.createElement('td');
    for (const code of letter.reasons) reasons.append(badge(code, 'reason'), ' ');
    tr.append(id, cell(letter.first_seen_at ?? ''), cell(letter.stage),
      cell(`${letter.topic} [${letter.partition}] @ ${letter.offset}`),
      cell(format.count(letter.bytes), 'num'), reasons);
    return tr;
  });
  document.querySelector('#dead-letters-table tbody').replaceChildren(
    ...(rows.length ? rows : [emptyRow(6, 'No dead letters.')]));
}

export function renderDeadLetter(letter) {
  setText('dead-letter-title', `Dead letter ${letter.id}`);
  const facts = [
    ['Stage', letter.stage === 'etl'
      ? 'etl (the payload is the staged row PostgreSQL refused to load)'
      : 'ingest (the payload is the message as Kafka delivered it)'],
    ['Source', `${letter.topic} · partition ${letter.partition} · offset ${letter.offset}`],
    ['Key', letter.key ?? '(purged)'],
    ['First seen', letter.first_seen_at ?? ''],
    ['Replayed', letter.replayed_at ? `${letter.replayed_at} as ${letter.replayed_as}` : 'no'],
    ['Size', `${format.count(letter.bytes)} bytes`],
  ];
  const list = document.getElementById('dead-letter-facts');
  list.replaceChildren(...facts.flatMap(([name, value]) => {
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = value;
    return [dt, dd];
  }));
  document.getElementById('dead-letter-reasons').replaceChildren(...letter.reasons.map((code) => {
    const li = document.createElement('li');
    li.append(badge(code, 'reason'));
    return li;
  }));
  setText('dead-letter-details', letter.details);
  const note = letter.payload === null
    ? `purged at ${letter.payload_purged_at}: the bytes are gone`
    : `control characters and bytes that are not UTF-8 shown as \\xNN${letter.payload_truncated
      ? `; the first ${format.count(letter.payload_shown_bytes)} of ${format.count(letter.bytes)} bytes (posflow dlq show ${letter.id} --raw for all)`
      : ''}`;
  setText('dead-letter-payload-note', note);
  setText('dead-letter-payload', letter.payload ?? '');
}

export function renderCheck(result) {
  const verdict = document.getElementById('check-verdict');
  verdict.replaceChildren(badge(result.ok ? 'OK' : 'DIFFERENCE', result.ok ? 'ok' : 'difference'),
    ` ${result.checks.length} checks in ${format.duration(result.seconds)}`);
  const table = document.getElementById('check-table');
  table.classList.remove('hidden');
  table.querySelector('tbody').replaceChildren(...result.checks.map((check) => {
    const tr = document.createElement('tr');
    const status = document.createElement('td');
    status.append(badge(check.ok ? 'OK' : 'DIFFERENCE', check.ok ? 'ok' : 'difference'));
    tr.append(cell(check.name), status, cell(check.detail));
    return tr;
  }));
}
