import assert from "node:assert/strict";
import { ConfigStore } from "../config/store.ts";
import { getLogger, logConfig } from "../util/log.ts";
import {
  bootstrapPassword,
  generatePassword,
  hashPassword,
  hashPasswordSync,
  PASSWORD_META_KEY,
  verifyPassword,
} from "./password.ts";

const CHEAP = { log2N: 10, r: 8, p: 1 };

function captureLog(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const write = logConfig.write;
  logConfig.write = (line) => lines.push(line);
  return { lines, restore: () => (logConfig.write = write) };
}

Deno.test("scrypt hash verifies the right password and rejects a wrong one", async () => {
  const stored = await hashPassword("correct horse", CHEAP);
  assert.match(stored, /^scrypt\$10\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.equal(await verifyPassword("correct horse", stored), true);
  assert.equal(await verifyPassword("correct hors", stored), false);
  assert.equal(await verifyPassword("", stored), false);
});

Deno.test("the default hash uses scrypt N=2^15 with a fresh salt each time", () => {
  const a = hashPasswordSync("same password");
  const b = hashPasswordSync("same password");
  assert.equal(a.split("$")[1], "15");
  assert.notEqual(a, b);
});

Deno.test("a malformed stored hash is an error, not a match", async () => {
  await assert.rejects(() => verifyPassword("x", "plain-text-password"), RangeError);
});

Deno.test("generated passwords are 20 unambiguous characters and differ", () => {
  const a = generatePassword();
  assert.equal(a.length, 20);
  assert.match(a, /^[a-km-zA-HJ-NP-Z2-9]+$/);
  assert.notEqual(a, generatePassword());
});

Deno.test("bootstrap stores the given password once and keeps it on later starts", async () => {
  const store = new ConfigStore(":memory:");
  const log = getLogger("test");
  const cap = captureLog();
  try {
    assert.equal(
      bootstrapPassword(store, { initialPassword: "first-pass", log, params: CHEAP }),
      "given",
    );
    const stored = store.getMeta(PASSWORD_META_KEY)!;
    assert.equal(
      bootstrapPassword(store, { initialPassword: "other-pass", log, params: CHEAP }),
      "stored",
    );
    assert.equal(store.getMeta(PASSWORD_META_KEY), stored);
    assert.equal(await verifyPassword("first-pass", stored), true);
    assert.ok(cap.lines.every((l) => !l.includes("first-pass")), "the password is never logged");
  } finally {
    cap.restore();
    store.close();
  }
});

Deno.test("bootstrap refuses an initial password shorter than 8 characters", () => {
  const store = new ConfigStore(":memory:");
  try {
    assert.throws(
      () =>
        bootstrapPassword(store, { initialPassword: "short", log: getLogger("t"), params: CHEAP }),
      /at least 8/,
    );
    assert.equal(store.getMeta(PASSWORD_META_KEY), undefined);
  } finally {
    store.close();
  }
});

Deno.test("a generated password is printed once at warn level and kept out of the recent ring", async () => {
  const store = new ConfigStore(":memory:");
  const cap = captureLog();
  try {
    assert.equal(bootstrapPassword(store, { log: getLogger("t"), params: CHEAP }), "generated");
    const line = cap.lines.find((l) => l.includes("password="));
    assert.ok(line, "the generated password is logged");
    assert.match(line, /WARN/);
    const password = /password=(\S+)/.exec(line)![1];
    assert.equal(await verifyPassword(password, store.getMeta(PASSWORD_META_KEY)!), true);
    assert.ok(logConfig.recent.every((r) => r.fields.password !== password));
    cap.lines.length = 0;
    bootstrapPassword(store, { log: getLogger("t"), params: CHEAP });
    assert.ok(cap.lines.every((l) => !l.includes(password)), "not printed on the next start");
  } finally {
    cap.restore();
    store.close();
  }
});
