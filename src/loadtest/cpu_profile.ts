/**
 * Where a V8 CPU profile's time went (a `.cpuprofile` from `deno run
 * --cpu-prof`, e.g. the load test server's with `--server-flags="--cpu-prof
 * --cpu-prof-dir=DIR"`): self time by function and by module, in percent of
 * the profile's wall time (so 100 % = one core busy all along).
 *
 *   deno run -A src/loadtest/cpu_profile.ts FILE.cpuprofile [--top 30]
 */
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  name: string;
  ms: number;
  /** Percent of one core over the profile's span. */
  pct: number;
}

/** The module a frame belongs to: an npm package's file below lib/, or a path below the repo. */
export function moduleOf(url: string): string {
  if (url === "") return "(native / idle / gc)";
  const npm = url.match(/registry\.npmjs\.org\/([^/]+)\/[^/]+\/(?:lib\/)?(.*)$/);
  if (npm) return `${npm[1]}: ${npm[2].replace(/^src\//, "")}`;
  const ext = url.match(/ext:([^/]+\/[^/]+)/);
  if (ext) return `deno ${ext[1]}`;
  const src = url.match(/\/(src|web)\/(.*)$/);
  return src ? `${src[1]}/${src[2]}` : url;
}

/** Self time per function and per module, largest first. */
export function summarize(
  p: CpuProfile,
): { byFunction: ProfileRow[]; byModule: ProfileRow[]; spanMs: number } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt);
  }
  const spanMs = (p.endTime - p.startTime) / 1000;
  const fn = new Map<string, number>(), mod = new Map<string, number>();
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName || "(anonymous)";
    if (name === "(idle)" || name === "(program)") continue;
    const m = moduleOf(n.callFrame.url);
    const key = `${name} (${m}:${n.callFrame.lineNumber + 1})`;
    fn.set(key, (fn.get(key) ?? 0) + ms);
    mod.set(m, (mod.get(m) ?? 0) + ms);
  }
  const rows = (m: Map<string, number>) =>
    [...m].map(([name, ms]) => ({ name, ms, pct: (ms / spanMs) * 100 })).sort((a, b) =>
      b.ms - a.ms
    );
  return { byFunction: rows(fn), byModule: rows(mod), spanMs };
}

if (import.meta.main) {
  const { values: v, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { top: { type: "string", default: "30" } },
  });
  const top = Number(v.top);
  for (const file of positionals) {
    const s = summarize(JSON.parse(await Deno.readTextFile(file)));
    const busy = s.byModule.reduce((a, r) => a + r.ms, 0);
    console.log(
      `# ${file}: ${(s.spanMs / 1000).toFixed(1)} s, busy ${
        ((busy / s.spanMs) * 100).toFixed(1)
      } % of a core\n`,
    );
    console.log("| module | % of a core |\n|---|---|");
    for (const r of s.byModule.slice(0, top)) console.log(`| ${r.name} | ${r.pct.toFixed(2)} |`);
    console.log("\n| function (self) | % of a core |\n|---|---|");
    for (const r of s.byFunction.slice(0, top)) console.log(`| ${r.name} | ${r.pct.toFixed(2)} |`);
    console.log();
  }
}
