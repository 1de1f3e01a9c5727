// The JSON API of `posflow serve` (see src/serve/dashboard_api.h). Every call resolves to the
// parsed body or rejects with an Error whose message is the server's one-line reason.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function getJson(path, params = {}, signal = undefined) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.set(name, value);
  }
  const url = query.toString() ? `${path}?${query}` : path;
  let response;
  try {
    response = await fetch(url, { signal, headers: { Accept: 'application/json' } });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, 'the dashboard server does not answer (is posflow serve running?)');
  }
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(response.status, `${url}: not JSON (HTTP ${response.status})`);
  }
  if (!response.ok) {
    throw new ApiError(response.status, body && body.error ? body.error : `HTTP ${response.status}`);
  }
  return body;
}

/** The report `name` for the filters: the same rows as `posflow report name --format json`. */
export function getReport(name, filters, signal) {
  const params = { store: filters.store };
  if (name !== 'low-stock') {
    params.from = filters.from;
    params.to = filters.to;
  }
  return getJson(`/api/reports/${encodeURIComponent(name)}`, params, signal);
}
