/**
 * The layering of src/ (docs: /work/shared/guide/style.md "Layout we aim at"):
 * data flows audio → session → (http, qos), control comes back through
 * interfaces, never through imports. Read from the source text, so a new
 * import that breaks a rule fails here with the file that made it.
 */
import assert from "node:assert/strict";
import { WEB_BUNDLES } from "../web/build.ts";

const SRC = new URL("../src/", import.meta.url);
const LAYERS = ["session", "http", "qos", "audio", "admin", "tls"] as const;
type Layer = typeof LAYERS[number];

/** Imports a layer must never make (on top of "no cycle"). */
const FORBIDDEN: Record<Layer, Layer[]> = {
  audio: ["session", "http", "qos"],
  session: ["http"],
  qos: ["http"],
  http: [],
  admin: [],
  // The TLS service owns the HTTPS state; the admin API shows it (not the other way round).
  tls: ["admin"],
};

const IMPORT_RE = /(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g;

/** Every non-test .ts file under src/, as a path relative to src/. */
function sourceFiles(dir = SRC, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const rel = prefix + e.name;
    if (e.isDirectory) out.push(...sourceFiles(new URL(`${e.name}/`, dir), `${rel}/`));
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) out.push(rel);
  }
  return out;
}

/** The relative imports of one file, resolved to paths relative to src/ (outside src/ dropped). */
export function importsOf(rel: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = m[1];
    if (!spec.startsWith(".")) continue;
    const abs = new URL(spec, new URL(rel, SRC)).href;
    if (abs.startsWith(SRC.href)) out.push(abs.slice(SRC.href.length));
  }
  return out;
}

function layerOf(rel: string): Layer | null {
  const top = rel.split("/")[0];
  return (LAYERS as readonly string[]).includes(top) ? top as Layer : null;
}

/** Layer → layer edges, each with the first file import that makes it. */
function layerGraph(): Map<string, string> {
  const edges = new Map<string, string>();
  for (const rel of sourceFiles()) {
    const from = layerOf(rel);
    if (!from) continue;
    for (const target of importsOf(rel, Deno.readTextFileSync(new URL(rel, SRC)))) {
      const to = layerOf(target);
      if (to && to !== from && !edges.has(`${from}>${to}`)) {
        edges.set(`${from}>${to}`, `${rel} → ${target}`);
      }
    }
  }
  return edges;
}

/** Cycles in a small directed graph, each as a path "a > b > a". */
export function cycles(edges: Iterable<string>): string[] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    const [a, b] = e.split(">");
    next.set(a, [...(next.get(a) ?? []), b]);
  }
  const found = new Set<string>();
  const walk = (path: string[]) => {
    for (const n of next.get(path[path.length - 1]) ?? []) {
      if (n === path[0]) {
        // Report each cycle once, starting from its smallest node.
        const i = path.indexOf([...path].sort()[0]);
        found.add([...path.slice(i), ...path.slice(0, i), path[i] ?? n].join(" > "));
      } else if (!path.includes(n)) walk([...path, n]);
    }
  };
  for (const start of next.keys()) walk([start]);
  return [...found];
}

Deno.test("architecture: the import scanner sees static, type-only, re-export and dynamic imports", () => {
  const text = [
    'import { a } from "../http/errors.ts";',
    'import type { B } from "./engine.ts";',
    'export { C } from "../qos/report.ts";',
    'const d = await import("../audio/source.ts");',
    'import "valibot";',
  ].join("\n");
  assert.deepEqual(importsOf("session/x.ts", text), [
    "http/errors.ts",
    "session/engine.ts",
    "qos/report.ts",
    "audio/source.ts",
  ]);
  assert.deepEqual(cycles(["a>b", "b>c", "c>a", "c>d"]), ["a > b > c > a"]);
  assert.deepEqual(cycles(["a>b", "b>c"]), []);
});

Deno.test("architecture: no import cycle between session/, http/, qos/, audio/, admin/ and tls/", () => {
  const edges = layerGraph();
  const found = cycles(edges.keys());
  const why = found.map((c) => {
    const nodes = c.split(" > ");
    return `${c}:\n  ${nodes.slice(1).map((n, i) => edges.get(`${nodes[i]}>${n}`)).join("\n  ")}`;
  });
  assert.deepEqual(why, []);
});

Deno.test("architecture: audio/ imports neither session/ nor http/; session/ and qos/ never import http/; tls/ never imports admin/", () => {
  const edges = layerGraph();
  const broken: string[] = [];
  for (const [from, banned] of Object.entries(FORBIDDEN)) {
    for (const to of banned) {
      const where = edges.get(`${from}>${to}`);
      if (where) broken.push(`${from}/ must not import ${to}/: ${where}`);
    }
  }
  assert.deepEqual(broken, []);
});

const ROOT = new URL("../", import.meta.url);

/** Every file of this repository the web bundles take: relative imports from each entry, transitively. */
function bundledModules(): string[] {
  const seen = new Set<string>();
  const visit = (url: URL) => {
    if (seen.has(url.href)) return;
    seen.add(url.href);
    for (const m of Deno.readTextFileSync(url).matchAll(IMPORT_RE)) {
      if (m[1].startsWith(".")) visit(new URL(m[1], url));
    }
  };
  for (const b of WEB_BUNDLES) visit(new URL(`web/${b.entry}`, ROOT));
  return [...seen].map((href) => href.slice(ROOT.href.length)).sort();
}

Deno.test("architecture: the pages bundle only runtime-neutral code, and the listener receives through the shared receiver", () => {
  const modules = bundledModules();
  assert.ok(modules.includes("src/client/receiver.ts"), modules.join(", "));
  assert.ok(modules.includes("src/client/opus.ts"), modules.join(", "));
  const broken: string[] = [];
  for (const rel of modules) {
    const code = Deno.readTextFileSync(new URL(rel, ROOT))
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "");
    if (/\bDeno\./.test(code)) broken.push(`${rel} uses the Deno API`);
    if (rel.startsWith("ffi/")) broken.push(`${rel} is an FFI binding`);
  }
  assert.deepEqual(broken, []);
});
