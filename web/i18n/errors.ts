/**
 * The server's errors in the page's language. The server answers
 * `{"error":{"code","message"}}` (docs/protocol.md §3) with an English
 * sentence; a page shows the catalogue's text for the codes it knows and the
 * server's own sentence for any other.
 */
import { type MessageKey, t } from "./i18n.ts";

/** Known error codes → their text (`{detail}`: the server's sentence, `{s}`: seconds to wait). */
const ERROR_TEXT: Readonly<Record<string, MessageKey>> = {
  wrong_password: "err_wrong_password",
  too_many_attempts: "err_too_many_attempts",
  version_conflict: "err_version_conflict",
  no_such_client: "err_no_such_client",
  unauthorized: "err_unauthorized",
  cross_origin: "err_cross_origin",
  bad_json: "err_bad_json",
  invalid_value: "err_invalid_value",
  not_found: "err_not_found",
  too_large: "err_too_large",
  internal_error: "err_internal",
  webtransport_unavailable: "err_webtransport_unavailable",
  server_full: "err_server_full",
};

/** The text for an error answer: the catalogue's for a known code, else the server's message. */
export function errorText(code: string, message: string): string {
  const key = Object.hasOwn(ERROR_TEXT, code) ? ERROR_TEXT[code] : undefined;
  if (!key) return message;
  const wait = /(\d+)\s*s\b/.exec(message);
  return t(key, { detail: message, s: wait ? wait[1] : "?" });
}
