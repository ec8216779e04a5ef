import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const FIXTURE = fileURLToPath(new URL("./testdata/guard_fixture.ts", import.meta.url));

async function runFixture(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-check", "--allow-env", FIXTURE, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("without the guard an unhandled rejection or a throwing timer ends the process with exit code 1", async () => {
  for (
    const [fault, message] of [["rejection", /nobody handles this/], [
      "timer",
      /timer callback threw/,
    ]] as const
  ) {
    const r = await runFixture(fault);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /still serving/);
    assert.match(r.stderr, message);
  }
});

Deno.test("with the guard a rejection and a throwing timer are logged one line each with a count, and it keeps serving", async () => {
  const r = await runFixture("--guard", "rejection", "timer");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split("\n");
  const rejection = lines.filter((l) => l.includes("unhandled promise rejection"));
  const thrown = lines.filter((l) => l.includes("uncaught exception"));
  assert.equal(rejection.length, 1, r.stdout);
  assert.equal(thrown.length, 1, r.stdout);
  assert.match(
    rejection[0],
    /ERROR main .* error="nobody handles this" at=.*guard_fixture\.ts:\d+:\d+.* count=1/,
  );
  assert.match(thrown[0], /error="a timer callback threw" .*count=1/);
  assert.match(lines.at(-1)!, /still serving errors=1 rejections=1/);
});
