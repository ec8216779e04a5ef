/**
 * The admin API client (docs/admin.md): JSON in and out, the session cookie
 * sent along, errors as `HttpError` with the contract's code and message
 * (`{"error":{"code","message"}}`, docs/protocol.md §3). A 401 means the
 * session is gone: the page shows the login form.
 */
import type { ErrorAnswer } from "../../src/admin/api_types.ts";

export const API = "/api/admin";

export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

let unauthorized: () => void = () => {};

/** What to do when the server answers 401 (not logged in) to anything but the login itself. */
export function onUnauthorized(cb: () => void): void {
  unauthorized = cb;
}

function errorOf(data: unknown): Partial<ErrorAnswer["error"]> {
  if (typeof data !== "object" || data === null || !("error" in data)) return {};
  const err = (data as ErrorAnswer).error;
  return typeof err === "object" && err !== null ? err : {};
}

/** One API call; resolves to the JSON answer (typed by the caller, as docs/admin.md gives it). */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(API + path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data: unknown = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = errorOf(data);
    if (res.status === 401 && path !== "/login") unauthorized();
    throw new HttpError(res.status, err.code ?? "http_error", err.message ?? `HTTP ${res.status}`);
  }
  return data as T;
}

/** The status of an `HttpError`, else null (a network failure). */
export function statusOf(e: unknown): number | null {
  return e instanceof HttpError ? e.status : null;
}
