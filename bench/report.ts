/** Shared formatting for the benchmark tables: fixed-width columns, numbers with units, ratios. */

export type Align = "left" | "right";

export interface Column<T> {
  title: string;
  value: (row: T) => string;
  align?: Align;
}

/** A plain-text table: a header line, a rule, one line per row; numbers right-aligned by default. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => c.value(r)));
  const widths = columns.map((c, i) =>
    Math.max(c.title.length, ...cells.map((row) => row[i].length))
  );
  const line = (values: string[]) =>
    values.map((
      v,
      i,
    ) => (columns[i].align === "left" ? v.padEnd(widths[i]) : v.padStart(widths[i])))
      .join("  ").trimEnd();
  return [
    line(columns.map((c) => c.title)),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.map(line),
  ].join("\n");
}

/** `x` with `digits` decimals, or "n/a" for NaN/undefined/Infinity. */
export function num(x: number | undefined | null, digits = 1): string {
  return x === undefined || x === null || !Number.isFinite(x) ? "n/a" : x.toFixed(digits);
}

/** Integer with thousands separators ("12 345"). */
export function int(x: number | undefined | null): string {
  if (x === undefined || x === null || !Number.isFinite(x)) return "n/a";
  return Math.round(x).toString().replace(/\B(?=(\d{3})+(?!\d))/g, " ");
}

/** `a / b` as "0.42×", or "n/a" when either side is missing or b is 0. */
export function ratio(a: number | undefined, b: number | undefined, digits = 2): string {
  if (a === undefined || b === undefined || !(b > 0) || !Number.isFinite(a)) return "n/a";
  return `${(a / b).toFixed(digits)}×`;
}

/** A section heading for the printed report. */
export function heading(title: string): string {
  return `\n== ${title} ${"=".repeat(Math.max(0, 74 - title.length))}`;
}

/**
 * A generic rendering for results whose shape this module does not know (other
 * engineers' benches): arrays of flat objects become tables, anything else JSON.
 */
export function generic(value: unknown): string {
  if (Array.isArray(value) && value.length > 0 && value.every(isFlatObject)) {
    const keys = [...new Set(value.flatMap((v) => Object.keys(v as object)))];
    return table(
      value as Record<string, unknown>[],
      keys.map((k) => ({ title: k, value: (r) => show(r[k]), align: alignFor(value, k) })),
    );
  }
  return JSON.stringify(value, (_k, v) => (typeof v === "number" ? round(v) : v), 2);
}

function isFlatObject(v: unknown): boolean {
  return typeof v === "object" && v !== null &&
    Object.values(v).every((x) => x === null || typeof x !== "object");
}

function alignFor(rows: unknown[], key: string): Align {
  return rows.every((r) => typeof (r as Record<string, unknown>)[key] === "number")
    ? "right"
    : "left";
}

function show(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(round(v));
  return String(v ?? "");
}

function round(v: number): number {
  if (!Number.isFinite(v) || Number.isInteger(v)) return v;
  return Number(v.toPrecision(4));
}
