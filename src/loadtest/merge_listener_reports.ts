/**
 * One listener report from several runs (each transport run on its own, so
 * each hold of the machine lock stays short): the runs of every input in
 * order, the commands joined, options and machine of the first.
 *
 *   deno run -A src/loadtest/merge_listener_reports.ts --out DIR A/report.json B/report.json …
 *
 * Writes DIR/report.json and DIR/report.html and prints the README's tables.
 */
import { parseArgs } from "node:util";
import type { ListenerReport } from "./listener_bench.ts";
import {
  markdownChromiumTable,
  markdownListenerTable,
  writeListenerReport,
} from "./listener_report.ts";

export function mergeListenerReports(reports: ListenerReport[]): ListenerReport {
  if (reports.length === 0) throw new Error("no report to merge");
  const [first] = reports;
  return {
    ...first,
    generated: reports.map((r) => r.generated).sort().at(-1)!,
    command: reports.map((r) => r.command).join(" && "),
    options: {
      ...first.options,
      transports: reports.flatMap((r) => r.options.transports),
    },
    runs: reports.flatMap((r) => r.runs),
  };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string" } },
    allowPositionals: true,
  });
  if (!values.out || positionals.length === 0) {
    console.error("usage: merge_listener_reports.ts --out DIR REPORT.json…");
    Deno.exit(2);
  }
  const reports = await Promise.all(
    positionals.map(async (f) => JSON.parse(await Deno.readTextFile(f)) as ListenerReport),
  );
  const merged = mergeListenerReports(reports);
  const { json, html } = await writeListenerReport(merged, values.out);
  console.log(markdownListenerTable(merged));
  console.log();
  console.log(markdownChromiumTable(merged));
  console.log(`\nreport: ${json} ${html}`);
}
