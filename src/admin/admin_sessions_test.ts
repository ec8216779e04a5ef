import assert from "node:assert/strict";
import { ManualClock } from "../util/clock.ts";
import { AdminSessions } from "./admin_sessions.ts";

Deno.test("admin session ids are 256-bit random hex and unique", () => {
  const s = new AdminSessions(new ManualClock());
  const a = s.create();
  const b = s.create();
  assert.match(a.id, /^[0-9a-f]{64}$/);
  assert.notEqual(a.id, b.id);
});

Deno.test("an admin session is valid until its lifetime ends", () => {
  const clock = new ManualClock();
  const s = new AdminSessions(clock, 60);
  const a = s.create();
  clock.advance(59_999);
  assert.equal(s.get(a.id)?.id, a.id);
  clock.advance(1);
  assert.equal(s.get(a.id), null);
  assert.equal(s.size, 0);
});

Deno.test("unknown, empty and ended session ids are not valid", () => {
  const s = new AdminSessions(new ManualClock());
  const a = s.create();
  assert.equal(s.get(undefined), null);
  assert.equal(s.get(""), null);
  assert.equal(s.get("f".repeat(64)), null);
  s.end(a.id);
  assert.equal(s.get(a.id), null);
});

Deno.test("ending all other sessions keeps only the given one", () => {
  const s = new AdminSessions(new ManualClock());
  const keep = s.create();
  const other = s.create();
  assert.equal(s.endAllExcept(keep.id), 1);
  assert.ok(s.get(keep.id));
  assert.equal(s.get(other.id), null);
});
