/**
 * The appliance around the server: the real process under a service-manager
 * stand-in (sd_notify READY/WATCHDOG/STOPPING, graceful SIGTERM), the systemd
 * unit (systemd-analyze verify), and install.sh staged into a DESTDIR
 * (files, modes, idempotency, valid avahi XML, uninstall, shellcheck).
 */
import assert from "node:assert/strict";
import { Probe } from "./helpers/probe.ts";
import { ROOT, spawnServer } from "./helpers/process_server.ts";

const UNIT = `${ROOT}/systemd/m32-server.service`;
const INSTALL = `${ROOT}/install.sh`;

function serveArgs(dir: string, extra: string[] = []): string[] {
  return [
    "serve",
    "--source",
    "test",
    "--http-port",
    "0",
    "--rtp-port",
    "0",
    "--hostname",
    "127.0.0.1",
    "--data-dir",
    `${dir}/data`,
    ...extra,
  ];
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}, cwd = ROOT) {
  const out = await new Deno.Command(cmd, {
    args,
    env,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function have(cmd: string): Promise<boolean> {
  return (await run("sh", ["-c", `command -v ${cmd}`])).code === 0;
}

Deno.test("SIGTERM: every client gets server_shutdown before its socket closes, audio stops and the process exits 0", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m32-sigterm-" });
  const srv = await spawnServer({ args: serveArgs(dir), dir });
  try {
    const { httpPort } = await srv.ready;
    const base = `http://127.0.0.1:${httpPort}`;
    const idle = await Probe.connect(base);
    const { probe: streaming } = await Probe.streaming(base, { channels: [{ id: 1 }] });
    await streaming.waitPackets(20);

    srv.child.kill("SIGTERM");
    for (const p of [idle, streaming]) {
      await p.until("socket closed", () => p.closeCode !== null, 10000);
      const events = p.messages.filter((m) => m.type === "event");
      const shutdown = events.find((m) =>
        (m.payload as Record<string, unknown>).type === "server_shutdown"
      );
      assert.ok(shutdown, `server_shutdown before close; got ${JSON.stringify(p.messages)}`);
    }
    assert.equal(await srv.exited(), 0, srv.output());
    // Audio stopped: nothing arrives once the process is gone.
    const count = streaming.packets.length;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(streaming.packets.length, count);
    assert.match(srv.output(), /signal received, shutting down signal=SIGTERM/);
    assert.match(srv.output(), /server stopped/);
    await idle.close();
    await streaming.close();
  } finally {
    await srv.cleanup();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("sd_notify: READY=1 once HTTP answers, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 on SIGTERM", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m32-notify-" });
  const srv = await spawnServer({
    args: serveArgs(dir),
    dir,
    env: { WATCHDOG_USEC: "200000", WATCHDOG_PID: "" },
  });
  try {
    const { httpPort, fields } = await srv.ready;
    // READY comes only after the port listens: the very next request succeeds.
    const health = await fetch(`http://127.0.0.1:${httpPort}/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    assert.match(fields.STATUS, /source test/);
    assert.equal(srv.notifications[0].fields.READY, "1", "READY is the first notification");

    const readyAt = srv.notifications[0].at;
    await srv.waitFor(
      () => srv.notifications.filter((n) => n.fields.WATCHDOG === "1").length >= 4,
      "4 watchdog pings",
    );
    const pings = srv.notifications.filter((n) => n.fields.WATCHDOG === "1");
    assert.ok(pings.every((p) => p.at >= readyAt), "no watchdog ping before READY");

    srv.child.kill("SIGTERM");
    const stopping = await srv.waitFor((n) => n.fields.STOPPING === "1", "STOPPING=1");
    assert.ok(stopping.fields.STATUS.length > 0);
    assert.equal(await srv.exited(), 0, srv.output());
    const afterStop = srv.notifications.slice(srv.notifications.indexOf(stopping) + 1);
    assert.ok(!afterStop.some((n) => n.fields.WATCHDOG), "no watchdog ping after STOPPING");
  } finally {
    await srv.cleanup();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("sd_notify reaches an abstract NOTIFY_SOCKET (@name), as systemd may hand out", async () => {
  if (!await have("python3")) {
    console.warn("skipped: python3 is needed to bind an abstract unix socket");
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "m32-abstract-" });
  const name = `m32-test-${crypto.randomUUID()}`;
  // python3 binds the abstract datagram socket and prints what arrives.
  const py = new Deno.Command("python3", {
    args: [
      "-c",
      `import socket,sys
s=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)
s.bind("\\0"+sys.argv[1]); print("bound",flush=True); s.settimeout(30)
while True:
  d=s.recv(4096).decode(); print(repr(d),flush=True)
  if "STOPPING=1" in d: break`,
      name,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = py.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let got = "";
  while (!got.includes("bound")) got += (await reader.read()).value ?? "";
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", `${ROOT}/main.ts`, ...serveArgs(dir)],
    env: { NOTIFY_SOCKET: `@${name}`, NO_COLOR: "1" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    while (!got.includes("READY=1")) {
      const r = await reader.read();
      if (r.done) break;
      got += r.value;
    }
    assert.match(got, /READY=1/);
    child.kill("SIGTERM");
    while (true) {
      const r = await reader.read();
      if (r.done) break;
      got += r.value;
    }
    assert.match(got, /STOPPING=1/);
    assert.equal((await child.status).code, 0);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    try {
      py.kill("SIGKILL");
    } catch { /* exited */ }
    await py.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("preflight names the Debian package of a missing native library, fatal only when the source needs it", async () => {
  const { preflight, NATIVE_LIBRARIES } = await import("../src/system/preflight.ts");
  const fake = [{ ...NATIVE_LIBRARIES[1], file: "libasound-missing-for-test.so.2" }];
  const alsa = preflight("alsa", undefined, fake);
  assert.equal(alsa.fatal.length, 1);
  assert.match(alsa.fatal[0], /install the Debian package libasound2/);
  assert.match(alsa.fatal[0], /libasound-missing-for-test\.so\.2 cannot be loaded/);
  assert.equal(preflight("auto", undefined, fake).warnings.length, 1);
  // And the real libraries of this machine load.
  assert.deepEqual(preflight("alsa"), { fatal: [], warnings: [] });
});

// --- systemd unit -------------------------------------------------------------------

function unitDirectives(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith("[")) continue;
    const i = line.indexOf("=");
    const k = line.slice(0, i);
    m.set(k, [...(m.get(k) ?? []), line.slice(i + 1)]);
  }
  return m;
}

Deno.test("the systemd unit passes systemd-analyze verify and carries the hardening", async () => {
  const text = await Deno.readTextFile(UNIT);
  const d = unitDirectives(text);
  const one = (k: string) => (d.get(k) ?? []).join(" ");
  assert.equal(one("Type"), "notify");
  assert.equal(one("NotifyAccess"), "main");
  assert.ok(Number(one("WatchdogSec")) > 0);
  assert.equal(one("ExecStart"), "/usr/local/bin/m32-server serve");
  assert.equal(one("DynamicUser"), "yes");
  assert.equal(one("SupplementaryGroups"), "audio");
  assert.equal(one("StateDirectory"), "m32-server");
  assert.match(one("Environment"), /M32_DATA_DIR=\/var\/lib\/m32-server/);
  assert.match(one("EnvironmentFile"), /-\/etc\/default\/m32-server/);
  assert.equal(one("Restart"), "always");
  assert.match(one("After"), /network-online\.target/);
  assert.match(one("After"), /sound\.target/);
  assert.equal(one("Wants"), "network-online.target");
  assert.equal(one("DevicePolicy"), "closed");
  assert.equal(one("DeviceAllow"), "char-alsa rw");
  assert.equal(one("CapabilityBoundingSet"), "");
  assert.equal(one("MemoryDenyWriteExecute"), "no");
  assert.equal(one("RestrictAddressFamilies"), "AF_INET AF_INET6 AF_UNIX AF_NETLINK");
  for (
    const k of [
      "NoNewPrivileges",
      "ProtectHome",
      "PrivateTmp",
      "ProtectKernelTunables",
      "ProtectKernelModules",
      "ProtectKernelLogs",
      "LockPersonality",
    ]
  ) assert.equal(one(k), "yes", k);
  assert.equal(one("ProtectSystem"), "strict");
  assert.equal(one("SystemCallArchitectures"), "native");
  assert.ok(Number(one("TimeoutStopSec")) >= 6, "room for the server's 5 s shutdown");
  // The audio thread may take SCHED_FIFO 20 (src/system/thread_priority.ts), or nice −10.
  assert.equal(one("RestrictRealtime"), "no");
  assert.equal(one("LimitRTPRIO"), "20");
  assert.equal(one("LimitNICE"), "-10");

  if (!await have("systemd-analyze")) {
    console.warn("skipped systemd-analyze: not installed");
    return;
  }
  // The program is not installed here: verify a copy whose ExecStart names an existing one.
  const dir = await Deno.makeTempDir({ prefix: "m32-unit-" });
  try {
    const copy = `${dir}/m32-server.service`;
    await Deno.writeTextFile(
      copy,
      text.replace(/^ExecStart=\S+/m, `ExecStart=${Deno.execPath()}`),
    );
    const r = await run("systemd-analyze", ["verify", copy]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((r.stdout + r.stderr).trim(), "", "verify prints nothing");
    // The original differs only in that the program is absent.
    const orig = await run("systemd-analyze", ["verify", UNIT]);
    const lines = (orig.stdout + orig.stderr).trim().split("\n").filter((l) => l);
    for (const l of lines) assert.match(l, /\/usr\/local\/bin\/m32-server is not executable/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("V8's JIT cannot run with MemoryDenyWriteExecute, which is why the unit leaves it off", async () => {
  if (!await have("python3")) {
    console.warn("skipped: python3 is needed to set PR_SET_MDWE");
    return;
  }
  // PR_SET_MDWE (Linux ≥ 6.3) is the kernel's form of systemd's MemoryDenyWriteExecute.
  const script = `import ctypes,os,sys
libc=ctypes.CDLL(None,use_errno=True)
if libc.prctl(65,1,0,0,0)!=0: print("unsupported"); sys.exit(0)
os.execv(sys.argv[1],sys.argv[1:])`;
  const js = "let s=0; for (let i=0;i<1e6;i++) s+=i; console.log('ran', s)";
  const withJit = await run("python3", ["-c", script, Deno.execPath(), "eval", js]);
  if (withJit.stdout.includes("unsupported")) {
    console.warn("skipped: this kernel has no PR_SET_MDWE");
    return;
  }
  assert.notEqual(withJit.code, 0, "deno with JIT under W^X enforcement");
  assert.doesNotMatch(withJit.stdout, /ran/);
  const jitless = await run("python3", [
    "-c",
    script,
    Deno.execPath(),
    "eval",
    "--v8-flags=--jitless",
    js,
  ]);
  assert.equal(jitless.code, 0, jitless.stderr);
  assert.match(jitless.stdout, /ran 499999500000/);
});

// --- install.sh -------------------------------------------------------------------

/** "mode sha256 path" for every file, directory and link under `root`. */
async function treeListing(root: string): Promise<string> {
  const r = await run("sh", [
    "-c",
    `cd "$1" && find . -printf '%m %y %p\\n' | sort -k3 && find . -type f -print0 | sort -z | xargs -0 -r sha256sum`,
    "sh",
    root,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

async function stage(dest: string, args: string[]) {
  const r = await run("bash", [INSTALL, ...args], { DESTDIR: dest, PATH: Deno.env.get("PATH")! });
  assert.equal(r.code, 0, `install.sh ${args.join(" ")}:\n${r.stdout}${r.stderr}`);
  return r.stdout + r.stderr;
}

async function mode(path: string): Promise<string> {
  return ((await Deno.stat(path)).mode! & 0o7777).toString(8);
}

Deno.test("install.sh into a DESTDIR creates every file with its mode, and a second run changes nothing", async () => {
  const dest = await Deno.makeTempDir({ prefix: "m32-stage-" });
  try {
    const first = await stage(dest, ["--binary", "/bin/true", "--keep-hostname"]);
    const expect: Record<string, string> = {
      "/usr/local/bin/m32-server": "755",
      "/etc/systemd/system/m32-server.service": "644",
      "/etc/default/m32-server": "644",
      "/etc/avahi/services/m32-server.service": "644",
      "/etc/m32-server": "700",
      "/etc/m32-server/first-admin-password": "600",
      "/etc/sysctl.d/60-m32-server.conf": "644",
    };
    for (const [p, m] of Object.entries(expect)) assert.equal(await mode(dest + p), m, p);
    assert.deepEqual(
      await Deno.readFile(`${dest}/usr/local/bin/m32-server`),
      await Deno.readFile("/bin/true"),
    );
    assert.equal(
      await Deno.readTextFile(`${dest}/etc/systemd/system/m32-server.service`),
      await Deno.readTextFile(UNIT),
    );
    // Staging never touches the system, it says what it would do.
    assert.match(first, /would run: systemctl enable m32-server\.service/);
    assert.match(first, /would run: systemctl restart m32-server\.service/);
    assert.match(
      await Deno.readTextFile(`${dest}/etc/sysctl.d/60-m32-server.conf`),
      /^net\.ipv4\.tcp_migrate_req = 1$/m,
    );
    assert.match(first, /would run: sysctl -q -p \/etc\/sysctl\.d\/60-m32-server\.conf/);
    assert.doesNotMatch(first, /^(?!\[install\]).*systemctl/m);

    // The first admin password: printed once, kept only in the root-only file.
    const pw = /first admin password \(shown only now[^)]*\): (\S+)/.exec(first)?.[1];
    assert.ok(pw && pw.length >= 12, first);
    assert.equal(
      await Deno.readTextFile(`${dest}/etc/m32-server/first-admin-password`),
      `M32_ADMIN_PASSWORD="${pw}"\n`,
    );
    const defaults = await Deno.readTextFile(`${dest}/etc/default/m32-server`);
    for (
      const k of ["M32_HTTP_PORT=8080", "M32_RTP_PORT=5004", "M32_SOURCE", "M32_ADMIN_PASSWORD"]
    ) {
      assert.match(defaults, new RegExp(`^#${k}`, "m"), k);
    }
    assert.doesNotMatch(defaults, /^[^#\s]/m, "every default is commented out");

    const before = await treeListing(dest);
    const second = await stage(dest, ["--binary", "/bin/true", "--keep-hostname"]);
    assert.equal(await treeListing(dest), before, "second run changed the tree");
    assert.match(second, /nothing to change: already installed/);
    assert.doesNotMatch(second, /password \(shown only now/, "the password is shown once");
    assert.doesNotMatch(second, /systemctl restart/);

    // A local edit of /etc/default survives, and its ports reach the avahi announcement.
    await Deno.writeTextFile(`${dest}/etc/default/m32-server`, "M32_HTTP_PORT=8090\n", {
      append: true,
    });
    await stage(dest, ["--binary", "/bin/true", "--keep-hostname"]);
    assert.match(
      await Deno.readTextFile(`${dest}/etc/default/m32-server`),
      /^M32_HTTP_PORT=8090$/m,
    );
    const avahi = await Deno.readTextFile(`${dest}/etc/avahi/services/m32-server.service`);
    assert.match(avahi, /<txt-record>http=8090<\/txt-record>/);
  } finally {
    await Deno.remove(dest, { recursive: true });
  }
});

Deno.test("install.sh announces _m32audio._udp and _http._tcp in avahi XML that validates", async () => {
  const dest = await Deno.makeTempDir({ prefix: "m32-avahi-" });
  try {
    await stage(dest, ["--binary", "/bin/true", "--keep-hostname"]);
    const file = `${dest}/etc/avahi/services/m32-server.service`;
    const xml = await Deno.readTextFile(file);
    const services = [...xml.matchAll(/<service>([\s\S]*?)<\/service>/g)].map((m) => m[1]);
    const audio = services.find((s) => s.includes("<type>_m32audio._udp</type>"));
    const web = services.find((s) => s.includes("<type>_http._tcp</type>"));
    assert.ok(audio && web, xml);
    assert.match(audio, /<port>5004<\/port>/);
    assert.match(audio, /<txt-record>http=8080<\/txt-record>/);
    assert.match(audio, /<txt-record>ws=\/ws<\/txt-record>/);
    assert.match(web, /<port>8080<\/port>/);
    assert.match(web, /<txt-record>path=\/admin\/<\/txt-record>/);
    if (!await have("xmllint")) {
      console.warn("skipped xmllint: not installed");
      return;
    }
    const wellFormed = await run("xmllint", ["--noout", file]);
    assert.equal(wellFormed.code, 0, wellFormed.stderr);
    const dtd = "/usr/share/avahi/avahi-service.dtd";
    if (await Deno.stat(dtd).then(() => true, () => false)) {
      const valid = await run("xmllint", ["--noout", "--dtdvalid", dtd, file]);
      assert.equal(valid.code, 0, valid.stderr);
    }
  } finally {
    await Deno.remove(dest, { recursive: true });
  }
});

Deno.test("install.sh with a bundle installs it with its Deno runtime and a launcher", async () => {
  const dest = await Deno.makeTempDir({ prefix: "m32-stage-bundle-" });
  const src = await Deno.makeTempDir({ prefix: "m32-bundle-src-" });
  try {
    await Deno.writeTextFile(`${src}/m32-server.js`, "console.log('bundle');\n");
    await stage(dest, [
      "--bundle",
      `${src}/m32-server.js`,
      "--deno",
      "/bin/true",
      "--keep-hostname",
    ]);
    assert.equal(await mode(`${dest}/usr/local/lib/m32-server/m32-server.js`), "644");
    assert.equal(await mode(`${dest}/usr/local/lib/m32-server/deno`), "755");
    assert.equal(await mode(`${dest}/usr/local/bin/m32-server`), "755");
    const launcher = await Deno.readTextFile(`${dest}/usr/local/bin/m32-server`);
    assert.match(launcher, /^#!\/bin\/sh\n/);
    assert.match(
      launcher,
      /exec \/usr\/local\/lib\/m32-server\/deno run .*--unstable-net .*\/usr\/local\/lib\/m32-server\/m32-server\.js "\$@"/,
    );
    const before = await treeListing(dest);
    await stage(dest, [
      "--bundle",
      `${src}/m32-server.js`,
      "--deno",
      "/bin/true",
      "--keep-hostname",
    ]);
    assert.equal(await treeListing(dest), before);
  } finally {
    await Deno.remove(dest, { recursive: true });
    await Deno.remove(src, { recursive: true });
  }
});

Deno.test("install.sh --uninstall removes what it installed; --purge also the settings and data", async () => {
  const dest = await Deno.makeTempDir({ prefix: "m32-uninstall-" });
  try {
    await stage(dest, ["--binary", "/bin/true", "--keep-hostname"]);
    await Deno.mkdir(`${dest}/var/lib/m32-server`, { recursive: true });
    await Deno.writeTextFile(`${dest}/var/lib/m32-server/m32-server.sqlite`, "db");
    const out = await stage(dest, ["--uninstall"]);
    assert.match(out, /would run: systemctl disable --now m32-server\.service/);
    for (
      const p of [
        "/usr/local/bin/m32-server",
        "/etc/systemd/system/m32-server.service",
        "/etc/avahi/services/m32-server.service",
        "/etc/m32-server",
        "/etc/sysctl.d/60-m32-server.conf",
      ]
    ) {
      assert.equal(await Deno.stat(dest + p).then(() => true, () => false), false, p);
    }
    assert.ok(await Deno.stat(`${dest}/var/lib/m32-server/m32-server.sqlite`));
    assert.ok(await Deno.stat(`${dest}/etc/default/m32-server`));
    await stage(dest, ["--uninstall", "--purge"]);
    const left = (await treeListing(dest)).split("\n").filter((l) => / f \.\//.test(l));
    assert.deepEqual(left, [], "nothing left after --purge");
  } finally {
    await Deno.remove(dest, { recursive: true });
  }
});

Deno.test("install.sh refuses bad input before touching anything", async () => {
  const dest = await Deno.makeTempDir({ prefix: "m32-bad-" });
  try {
    const env = { DESTDIR: dest, PATH: Deno.env.get("PATH")! };
    const notElf = await run("bash", [INSTALL, "--binary", INSTALL], env);
    assert.notEqual(notElf.code, 0);
    assert.match(notElf.stderr, /is not an executable program/);
    const badName = await run(
      "bash",
      [INSTALL, "--binary", "/bin/true", "--hostname", "M32 Box"],
      env,
    );
    assert.notEqual(badName.code, 0);
    assert.match(badName.stderr, /--hostname/);
    const pwFile = `${dest}/../m32-short-pw-${crypto.randomUUID()}`;
    await Deno.writeTextFile(pwFile, "short\n");
    const shortPw = await run("bash", [
      INSTALL,
      "--binary",
      "/bin/true",
      "--admin-password-file",
      pwFile,
    ], env);
    await Deno.remove(pwFile);
    assert.notEqual(shortPw.code, 0);
    assert.match(shortPw.stderr, /at least 8 characters/);
    const entries = [];
    for await (const e of Deno.readDir(dest)) entries.push(e.name);
    assert.deepEqual(entries, []);
  } finally {
    await Deno.remove(dest, { recursive: true });
  }
});

Deno.test("install.sh and the build scripts' shell pass shellcheck", async () => {
  if (!await have("shellcheck")) {
    console.warn("skipped: shellcheck not installed");
    return;
  }
  const r = await run("shellcheck", [INSTALL]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});
