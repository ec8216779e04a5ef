import assert from "node:assert/strict";
import { SESSION_ERROR_CODES, SessionError } from "../session/errors.ts";
import { ApiError, SESSION_ERROR_ANSWERS, WS_ERROR_CODES, wsError } from "./errors.ts";

Deno.test("error table: every session error has one HTTP status and a contract WebSocket code", () => {
  assert.deepEqual(Object.keys(SESSION_ERROR_ANSWERS).sort(), [...SESSION_ERROR_CODES].sort());
  for (const code of SESSION_ERROR_CODES) {
    const a = SESSION_ERROR_ANSWERS[code];
    assert.ok((WS_ERROR_CODES as readonly string[]).includes(a.ws), `${code} → ${a.ws}`);
    assert.ok(a.status >= 400 && a.status < 600, `${code} → ${a.status}`);
  }
});

Deno.test("error table: /request-audio answers as the contract says (§3, §12)", () => {
  const status = (code: keyof typeof SESSION_ERROR_ANSWERS) => SESSION_ERROR_ANSWERS[code].status;
  assert.equal(status("invalid_port"), 400);
  assert.equal(status("address_mismatch"), 403);
  assert.equal(status("no_session"), 409);
  assert.equal(status("server_full"), 503);
});

Deno.test("error table: a session error becomes the contract's HTTP body and WebSocket message", () => {
  const e = new SessionError("unmapped_channel", "channel 7 is not mapped; mapped channels: 1,2");
  const api = ApiError.from(e);
  assert.equal(api.status, 400);
  assert.deepEqual(api.toJSON(), {
    error: { code: "unmapped_channel", message: "channel 7 is not mapped; mapped channels: 1,2" },
  });
  assert.deepEqual(wsError(e), {
    type: "error",
    code: "invalid_payload",
    message: "channel 7 is not mapped; mapped channels: 1,2",
  });
  assert.equal(wsError(new SessionError("server_full", "20 of 20")).code, "not_ready");
});
