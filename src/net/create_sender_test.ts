import assert from "node:assert/strict";
import { createSender, type SenderKind } from "./create_sender.ts";
import { findUdpSocketFd } from "./socket_fd.ts";
import { getTos } from "./dscp.ts";

const OPTS = { hostname: "127.0.0.1", port: 0, maxDatagramBytes: 1400, dscp: 46 };
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const MODULE = new URL("./create_sender.ts", import.meta.url).href;

for (const kind of ["sendmmsg", "deno"] as const) {
  Deno.test(`createSender("${kind}") opens that kind with DSCP applied and no fallback`, async () => {
    const reasons: string[] = [];
    const sender = await createSender(kind, OPTS, (r) => reasons.push(r));
    try {
      assert.equal(sender.kind, kind);
      assert.deepEqual(reasons, []);
      assert.equal(getTos(findUdpSocketFd(sender.localPort, "127.0.0.1")), 0xb8);
    } finally {
      sender.close();
    }
  });
}

Deno.test("createSender rejects an unknown kind", async () => {
  await assert.rejects(createSender("raw" as SenderKind, OPTS), /sendmmsg, deno, got "raw"/);
});

Deno.test("createSender does not fall back when the port is taken", async () => {
  const holder = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (holder.addr as Deno.NetAddr).port;
  const reasons: string[] = [];
  try {
    await assert.rejects(
      createSender("sendmmsg", { ...OPTS, port }, (r) => reasons.push(r)),
      Deno.errors.AddrInUse,
    );
    assert.deepEqual(reasons, []);
  } finally {
    holder.close();
  }
});

/** Runs createSender in a child Deno without --allow-ffi; returns its JSON line. */
async function withoutFfi(kind: SenderKind, dscp: number): Promise<Record<string, unknown>> {
  const dir = Deno.makeTempDirSync({ prefix: "m32-create-sender-" });
  try {
    const script = `${dir}/probe.ts`;
    Deno.writeTextFileSync(
      script,
      `import { createSender } from ${JSON.stringify(MODULE)};
const reasons: string[] = [];
const s = await createSender(${JSON.stringify(kind)},
  { hostname: "127.0.0.1", port: 0, maxDatagramBytes: 1400, dscp: ${dscp} },
  (r) => reasons.push(r));
const t = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
const d = s.destination("127.0.0.1", (t.addr as Deno.NetAddr).port);
s.slot().set([1, 2, 3]);
s.commit(3, d);
s.flush();
const [data] = await t.receive();
console.log(JSON.stringify({ kind: s.kind, reasons, data: [...data] }));
s.close();
t.close();
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--config", CONFIG, "--allow-net", "--allow-read", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `child failed: ${stderr}`);
    return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("createSender falls back to the deno sender without FFI and says why", async () => {
  const got = await withoutFfi("sendmmsg", 0);
  assert.equal(got.kind, "deno");
  assert.deepEqual(got.data, [1, 2, 3]);
  const reasons = got.reasons as string[];
  assert.equal(reasons.length, 1);
  assert.match(reasons[0], /sendmmsg sender unavailable.*libc\.so\.6.*libc6/);
});

Deno.test("createSender without FFI still streams, unmarked, and reports the DSCP it could not set", async () => {
  const got = await withoutFfi("deno", 46);
  assert.equal(got.kind, "deno");
  assert.deepEqual(got.data, [1, 2, 3]);
  assert.match((got.reasons as string[])[0], /DSCP 46 not applied/);
});
