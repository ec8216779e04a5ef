/**
 * `deno task release` → dist/release/: everything an installer copies to the
 * box, with SHA256SUMS.
 *
 *   m32-server            the compiled program (when `deno task compile` works), or
 *   m32-server.js + deno  the bundle and the Deno runtime that runs it (this
 *                         machine's, same CPU architecture), with m32-server.sh
 *                         to try it without installing;
 *   install.sh, systemd/m32-server.service, README.md, docs/install.md,
 *   docs/protocol.md, BUILD.txt, SHA256SUMS.
 *
 * usage: deno run -A .ci/release.ts [--output DIR]
 */
import { bundle, DIST, ROOT } from "./bundle.ts";
import { compile, CompileError } from "./compile.ts";

const FILES: [string, string][] = [
  ["install.sh", "install.sh"],
  ["systemd/m32-server.service", "systemd/m32-server.service"],
  ["README.md", "README.md"],
  ["docs/install.md", "docs/install.md"],
  ["docs/protocol.md", "docs/protocol.md"],
];

const LAUNCHER = `#!/bin/sh
# Runs the bundled m32-server with the Deno runtime beside it, without installing:
#   ./m32-server.sh serve --source test --data-dir ./data
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/deno" run --allow-all --unstable-net --no-config --no-lock --no-prompt "$here/m32-server.js" "$@"
`;

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${dir}/${prefix}`)) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...await listFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

async function gitRevision(): Promise<string> {
  const out = await new Deno.Command("git", {
    args: ["describe", "--always", "--dirty"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => null);
  return out?.success ? new TextDecoder().decode(out.stdout).trim() : "unknown";
}

export async function release(output = `${DIST}/release`): Promise<{ dir: string; mode: string }> {
  await Deno.remove(output, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${output}/systemd`, { recursive: true });
  await Deno.mkdir(`${output}/docs`, { recursive: true });

  let mode: "compiled" | "bundle";
  try {
    await compile(["--output", `${output}/m32-server`]);
    mode = "compiled";
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    console.error(`release: no compiled program: ${e.message}`);
    console.error("release: shipping the bundle with this machine's Deno runtime instead");
    await bundle(`${output}/m32-server.js`);
    await Deno.copyFile(await Deno.realPath(Deno.execPath()), `${output}/deno`);
    await Deno.chmod(`${output}/deno`, 0o755);
    await Deno.writeTextFile(`${output}/m32-server.sh`, LAUNCHER, { mode: 0o755 });
    mode = "bundle";
  }
  for (const [from, to] of FILES) {
    await Deno.copyFile(`${ROOT}/${from}`, `${output}/${to}`);
  }
  await Deno.chmod(`${output}/install.sh`, 0o755);
  await Deno.writeTextFile(
    `${output}/BUILD.txt`,
    [
      `m32-server ${await gitRevision()}`,
      `mode: ${mode}`,
      `deno: ${Deno.version.deno} (${Deno.build.target})`,
      `built: ${new Date().toISOString()}`,
      "",
    ].join("\n"),
  );
  const sums: string[] = [];
  for (const f of await listFiles(output)) sums.push(`${await sha256(`${output}/${f}`)}  ${f}`);
  await Deno.writeTextFile(`${output}/SHA256SUMS`, sums.join("\n") + "\n");
  return { dir: output, mode };
}

if (import.meta.main) {
  try {
    const i = Deno.args.indexOf("--output");
    const { dir, mode } = await release(i >= 0 ? Deno.args[i + 1] : undefined);
    console.log(`release: ${dir.replace(ROOT + "/", "")} (${mode}); install: sudo ./install.sh`);
  } catch (e) {
    console.error(`release: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}
