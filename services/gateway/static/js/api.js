// The portal's only door to the API: same origin, bearer token kept in sessionStorage
// (gone when the tab closes), errors turned into ApiError with the API's own message.

const TOKEN_KEY = "meterstream.token";
const USER_KEY = "meterstream.user";

export class ApiError extends Error {
  constructor(status, message, detail) {
    super(message);
    this.status = status;
    this.detail = detail;
  }

  /** The endpoint does not exist (yet) on this deployment: the page says so instead of failing. */
  get notAvailable() {
    // FastAPI's bare "Not Found" / 405 mean no such route; a service's own 404s name the missing object.
    if (this.status === 405) return true;
    return this.status === 404 && (this.detail === "Not Found" || String(this.detail).startsWith("no such API path"));
  }

  /** FastAPI/pydantic 422 detail as [{field, message}] for inline display. */
  get fieldErrors() {
    if (!Array.isArray(this.detail)) return [];
    return this.detail.map((d) => ({ field: (d.loc || []).filter((p) => p !== "body").join("."), message: d.msg }));
  }
}

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  get user() { return JSON.parse(sessionStorage.getItem(USER_KEY) || "null"); },
  save(token, user) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, JSON.stringify(user));
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
  },
};

let onUnauthorised = () => {};
export function whenUnauthorised(handler) { onUnauthorised = handler; }

function messageOf(status, body) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (detail && typeof detail.message === "string") return detail.message;
  if (Array.isArray(detail)) return detail.map((d) => d.msg || JSON.stringify(d)).join("; ");
  return `request failed (HTTP ${status})`;
}

export async function request(method, path, { params, body, form, raw } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  const headers = {};
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  let payload;
  if (form) payload = new URLSearchParams(form);
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(url, { method, headers, body: payload });
  if (response.status === 401 && session.token) onUnauthorised();
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    throw new ApiError(response.status, messageOf(response.status, data), data && data.detail);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

export const api = {
  get: (path, params) => request("GET", path, { params }),
  post: (path, body) => request("POST", path, { body }),
  put: (path, body) => request("PUT", path, { body }),
  patch: (path, body) => request("PATCH", path, { body }),
  del: (path, params) => request("DELETE", path, { params }),
};

export async function login(email, password) {
  const token = await request("POST", "/api/v1/auth/token", { form: { username: email, password } });
  session.save(token.access_token, { name: token.name, role: token.role, email });
  return session.user;
}

/** GET that answers `fallback` when the endpoint is not deployed, so pages can degrade. */
export async function getOptional(path, params, fallback = null) {
  try {
    return await api.get(path, params);
  } catch (err) {
    if (err instanceof ApiError && err.notAvailable) return fallback;
    throw err;
  }
}
