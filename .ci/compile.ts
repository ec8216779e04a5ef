/**
 * `deno task compile` → dist/m32-server: one executable with the Deno runtime
 * inside (no Deno needed on the box).
 *
 * `deno compile` joins the program to `denort`, a slim Deno runtime it
 * downloads for the target, unless DENORT_BIN names a local copy. Where
 * neither works this says so in one line and exits 1; `deno task bundle` plus
 * a Deno CLI (`deno task release` does that) is the fallback.
 *
 * usage: deno run -A .ci/compile.ts [--output PATH] [--target TRIPLE]
 */
import { BUILD, DIST, ROOT, writeEntry } from "./bundle.ts";

export const BINARY = `${DIST}/m32-server`;
const HINT = "set DENORT_BIN to a denort binary of Deno " + Deno.version.deno +
  " for the target (from the Deno release archive denort-<target>.zip)";

export class CompileError extends Error {}

function parseArgs(args: string[]): { output: string; target?: string } {
  let output = BINARY;
  let target: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--output") output = args[++i];
    else if (args[i] === "--target") target = args[++i];
    else throw new CompileError(`unknown argument ${args[i]} (use --output PATH, --target TRIPLE)`);
  }
  return { output, target };
}

/** Whether `path` starts like the m32-server command line (`--help`). */
async function smokeTest(path: string): Promise<string | null> {
  const out = await new Deno.Command(path, {
    args: ["--help"],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output().catch((e) => ({ success: false, stdout: new Uint8Array(), stderr: e.message }));
  const text = new TextDecoder().decode(out.stdout);
  if (out.success && text.includes("m32-server serve")) return null;
  const err = typeof out.stderr === "string" ? out.stderr : new TextDecoder().decode(out.stderr);
  return (err || text).trim().split("\n")[0] || "no output";
}

export async function compile(args: string[] = []): Promise<string> {
  const { output, target } = parseArgs(args);
  const denort = Deno.env.get("DENORT_BIN");
  if (denort) {
    const st = await Deno.stat(denort).catch(() => null);
    if (!st?.isFile) throw new CompileError(`DENORT_BIN=${denort} is not a file; ${HINT}`);
  }
  const entry = await writeEntry(BUILD);
  const cmd = [
    "compile",
    "--quiet",
    "--allow-all",
    "--unstable-net",
    "--no-check",
    ...(target ? ["--target", target] : []),
    "--output",
    output,
    entry,
  ];
  const out = await new Deno.Command(Deno.execPath(), {
    args: cmd,
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr);
    const download = /download|dns|lookup|connect|denort|sending request/i.test(err);
    const lines = err.split("\n").map((l) => l.trim()).filter((l) => l);
    // Deno prints "error: …" then numbered causes; the first cause names what failed.
    const cause = lines.find((l) => /^\d+: .*(request|dns|denort|download)/i.test(l));
    const first = (cause ?? lines.find((l) => /error/i.test(l)) ?? "no output").replace(
      /^\d+: /,
      "",
    );
    throw new CompileError(
      download && !denort
        ? `the denort runtime could not be downloaded (${first}); ${HINT}`
        : `deno compile failed: ${first}`,
    );
  }
  if (!target || target.startsWith(Deno.build.target.split("-")[0])) {
    const problem = await smokeTest(output);
    if (problem) {
      await Deno.remove(output).catch(() => {});
      throw new CompileError(
        `the compiled program does not run m32-server (${problem})` +
          (denort
            ? `: DENORT_BIN=${denort} is not a denort runtime (the deno CLI is not one); `
            : "; ") +
          HINT,
      );
    }
  }
  return output;
}

if (import.meta.main) {
  try {
    const out = await compile(Deno.args);
    const { size } = await Deno.stat(out);
    console.log(`compile: ${out.replace(ROOT + "/", "")} (${(size / 2 ** 20).toFixed(1)} MiB)`);
  } catch (e) {
    console.error(`compile: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}
