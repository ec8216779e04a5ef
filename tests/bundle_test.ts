/**
 * The single-file build: `deno task bundle`'s output, copied alone into an
 * empty directory, serves the API and the embedded admin page, streams the
 * test signal, starts the ALSA capture Worker from its embedded code (the
 * emulated M32 through real libasound) and stops cleanly on SIGTERM.
 */
import assert from "node:assert/strict";
import { bundle } from "../.ci/bundle.ts";
import { decodePcm, Probe } from "./helpers/probe.ts";
import { ROOT, type ServerProcess, spawnServer } from "./helpers/process_server.ts";
import { M32Emulator, writeEmulatorAlsaConfig } from "./m32_emulator.ts";

const ALSA_FRAMES = 240;

/** Builds a fresh bundle and copies it alone into an empty directory; returns that directory. */
async function bundleAlone(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const build = await Deno.makeTempDir({ prefix: "m32-build-" });
  const dir = await Deno.makeTempDir({ prefix: "m32-bundle-run-" });
  const out = await bundle(`${build}/m32-server.js`, `${build}/.build`);
  await Deno.copyFile(out, `${dir}/m32-server.js`);
  await Deno.remove(build, { recursive: true });
  return { dir, cleanup: () => Deno.remove(dir, { recursive: true }) };
}

function runBundle(dir: string, args: string[], env: Record<string, string> = {}) {
  return spawnServer({
    program: ["run", "--allow-all", "--unstable-net", "--no-config", "m32-server.js"],
    cwd: dir,
    args: [
      "serve",
      "--http-port",
      "0",
      "--rtp-port",
      "0",
      "--hostname",
      "127.0.0.1",
      "--data-dir",
      `${dir}/data`,
      ...args,
    ],
    env,
  });
}

/** `p`, or a failure naming `what` (with the server's log) after `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string, srv: ServerProcess): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what} within ${ms} ms:\n${srv.output()}`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function stopCleanly(srv: ServerProcess): Promise<void> {
  srv.child.kill("SIGTERM");
  assert.equal(await srv.exited(), 0, srv.output());
}

Deno.test("the bundle runs alone from an empty directory: API, embedded admin page, test signal over RTP", async () => {
  const { dir, cleanup } = await bundleAlone();
  const entries = [];
  for await (const e of Deno.readDir(dir)) entries.push(e.name);
  assert.deepEqual(entries, ["m32-server.js"], "nothing but the bundle");
  const srv = await runBundle(dir, ["--source", "test"]);
  try {
    const { httpPort } = await srv.ready;
    const base = `http://127.0.0.1:${httpPort}`;
    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200);
    assert.equal((await health.json()).source, "test");
    const meta = await fetch(`${base}/audio-meta`);
    assert.equal(meta.status, 200);
    assert.equal((await meta.json()).channels.length, 32);

    const page = await fetch(`${base}/admin/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    assert.equal(await page.text(), await Deno.readTextFile(`${ROOT}/web/admin/index.html`));
    for (
      const [f, file] of [["admin.js", "web/gen/admin.js"], ["admin.css", "web/admin/admin.css"]]
    ) {
      const r = await fetch(`${base}/admin/${f}`);
      assert.equal(r.status, 200, f);
      assert.equal(await r.text(), await Deno.readTextFile(`${ROOT}/${file}`), f);
    }

    const { probe, ack } = await Probe.streaming(base, {
      channels: [{ id: 1 }, { id: 5 }, { id: 32 }],
    });
    assert.deepEqual(ack.channels, [1, 5, 32]);
    const bytes = ack.encoding === "L16" ? 2 : 3;
    const pkts = await probe.waitPackets(20);
    for (const p of pkts.slice(0, 20)) {
      for (const f of decodePcm(p, 3, bytes)) assert.deepEqual(f, [1, 5, 32]);
    }
    await stopCleanly(srv);
    await probe.close();
  } finally {
    await srv.cleanup();
    await cleanup();
  }
});

// On the worker audio plane the ALSA reader is a worker started by the audio plane's worker:
// both run from embedded code.
for (const plane of ["main", "worker"]) {
  Deno.test(`the bundle starts the ALSA capture Worker from its embedded code and streams the console (audio plane ${plane})`, async () => {
    const { dir, cleanup } = await bundleAlone();
    const alsaDir = await Deno.makeTempDir({ prefix: "m32-bundle-alsa-" });
    const pcmName = "m32bundle";
    const fifo = `${alsaDir}/m32.fifo`;
    const conf = await writeEmulatorAlsaConfig(alsaDir, { pcmName, fifoPath: fifo, channels: 32 });
    const emu = new M32Emulator({
      fifoPath: fifo,
      channels: 32,
      format: "S32_LE",
      sampleRate: 48000,
      framesPerChunk: ALSA_FRAMES,
      bufferPeriods: 4,
    });
    const srv = await runBundle(
      dir,
      ["--source", "alsa", "--alsa-device", pcmName, "--audio-plane", plane],
      { ALSA_CONFIG_PATH: conf },
    );
    try {
      const { httpPort } = await srv.ready;
      const base = `http://127.0.0.1:${httpPort}`;
      const started = emu.start(); // resolves once the server's worker opens the device
      const { probe } = await Probe.streaming(base, { channels: [{ id: 2 }, { id: 7 }] });
      await within(started, 10000, "the capture worker opens the emulated device", srv);
      const pkts = await probe.waitPackets(30, 10000);
      for (const p of pkts.slice(5, 30)) {
        for (const f of decodePcm(p, 2, 3)) {
          assert.deepEqual(
            f.map((v) => Math.abs(v) >> 16),
            [2, 7],
            "channel pattern of the emulator",
          );
        }
      }
      // The worker plane tells the capture controller that audio flows every 100 ms: poll.
      let h = await (await fetch(`${base}/health`)).json();
      for (let i = 0; i < 30 && h.source_state !== "running"; i++) {
        await new Promise((r) => setTimeout(r, 100));
        h = await (await fetch(`${base}/health`)).json();
      }
      assert.equal(h.source, "alsa");
      assert.equal(h.source_state, "running", JSON.stringify(h));
      assert.doesNotMatch(srv.output(), /Module not found|alsa_worker\.ts|audio_worker\.ts/);
      assert.match(srv.output(), new RegExp(`rtp socket open .*audio_plane=${plane}`));
      await stopCleanly(srv);
      await probe.close();
    } finally {
      emu.stop();
      await srv.cleanup();
      await cleanup();
      await Deno.remove(alsaDir, { recursive: true });
    }
  });
}

Deno.test("the bundle reports a missing ALSA device as a source error, not a missing module", async () => {
  const { dir, cleanup } = await bundleAlone();
  const srv = await runBundle(dir, ["--source", "alsa", "--alsa-device", "hw:M32NOSUCHCARD"]);
  try {
    const { httpPort } = await srv.ready;
    const base = `http://127.0.0.1:${httpPort}`;
    const { probe } = await Probe.streaming(base, { channels: [{ id: 1 }] });
    let h: Record<string, unknown> = {};
    for (let i = 0; i < 100 && h.source_state !== "error"; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      h = await (await fetch(`${base}/health`)).json();
    }
    assert.equal(h.source_state, "error", JSON.stringify(h));
    assert.match(String(h.source_error), /M32NOSUCHCARD/);
    assert.doesNotMatch(String(h.source_error), /module|not found.*\.ts/i);
    await stopCleanly(srv);
    await probe.close();
  } finally {
    await srv.cleanup();
    await cleanup();
  }
});

Deno.test("deno task release: checksums verify, and install.sh from the release installs a program that runs", async () => {
  const { release } = await import("../.ci/release.ts");
  const out = await Deno.makeTempDir({ prefix: "m32-release-" });
  const dest = await Deno.makeTempDir({ prefix: "m32-release-stage-" });
  try {
    const { dir, mode } = await release(`${out}/release`);
    const sums = await new Deno.Command("sha256sum", {
      args: ["-c", "--quiet", "SHA256SUMS"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(
      sums.success,
      new TextDecoder().decode(sums.stdout) + new TextDecoder().decode(sums.stderr),
    );
    const listed = (await Deno.readTextFile(`${dir}/SHA256SUMS`)).trim().split("\n")
      .map((l) => l.split("  ")[1]);
    for (const f of ["install.sh", "systemd/m32-server.service", "README.md", "docs/install.md"]) {
      assert.ok(listed.includes(f), f);
    }
    assert.ok(listed.includes(mode === "compiled" ? "m32-server" : "m32-server.js"));

    const inst = await new Deno.Command("bash", {
      args: [`${dir}/install.sh`, "--keep-hostname"],
      env: { DESTDIR: dest },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(inst.success, new TextDecoder().decode(inst.stderr));
    // Run the installed program (its launcher points at /usr/local: redirect it into DESTDIR).
    let program = `${dest}/usr/local/bin/m32-server`;
    if (mode === "bundle") {
      const launcher = (await Deno.readTextFile(program)).replaceAll(
        "/usr/local/lib/",
        `${dest}/usr/local/lib/`,
      );
      program = `${out}/launcher.sh`;
      await Deno.writeTextFile(program, launcher, { mode: 0o755 });
    }
    const help = await new Deno.Command(program, { args: ["--help"], stdout: "piped" }).output();
    assert.ok(help.success);
    assert.match(new TextDecoder().decode(help.stdout), /m32-server serve/);
  } finally {
    await Deno.remove(out, { recursive: true });
    await Deno.remove(dest, { recursive: true });
  }
});

Deno.test("deno task compile says in one line why it cannot build, and never leaves a program that does not run", async () => {
  const out = await Deno.makeTempDir({ prefix: "m32-compile-" });
  const compileWith = async (env: Record<string, string>) => {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}/.ci/compile.ts`, "--output", `${out}/m32-server`],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: r.code, stderr: new TextDecoder().decode(r.stderr).trim() };
  };
  try {
    const missing = await compileWith({ DENORT_BIN: `${out}/no-such-denort` });
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^compile: DENORT_BIN=.*no-such-denort is not a file; set DENORT_BIN/,
    );
    assert.equal(missing.stderr.split("\n").length, 1);

    // The deno CLI is not a denort: compiling "works" but the result is not our program.
    const cli = await compileWith({ DENORT_BIN: Deno.execPath() });
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /does not run m32-server.*is not a denort runtime/);
    assert.equal(await Deno.stat(`${out}/m32-server`).then(() => true, () => false), false);

    // As configured here: a runnable program, or one line naming DENORT_BIN.
    const plain = await compileWith({});
    if (plain.code === 0) {
      const help = await new Deno.Command(`${out}/m32-server`, {
        args: ["--help"],
        stdout: "piped",
      })
        .output();
      assert.match(new TextDecoder().decode(help.stdout), /m32-server serve/);
    } else {
      assert.equal(plain.stderr.split("\n").length, 1, plain.stderr);
      assert.match(plain.stderr, /^compile: .*DENORT_BIN/);
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
