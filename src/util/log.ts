/**
 * Structured logging: one line per event, with a level, a category and
 * key=value fields (logfmt), e.g.
 *   2026-11-23T19:00:00.000Z INFO  stream RTP stats client=c1 packets=1000 loss_pct=0
 * Warnings and errors are also kept in a small ring for the admin page.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";
const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface LogRecord {
  time: string;
  level: LogLevel;
  category: string;
  message: string;
  fields: LogFields;
}

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(category: string): Logger;
}

const RECENT_MAX = 200;

/** Process-wide sink: where lines go and which level passes. */
export const logConfig = {
  level: (Deno.env.get("M32_LOG_LEVEL") as LogLevel | undefined) ?? "info",
  write: (line: string) => console.log(line),
  recent: [] as LogRecord[],
  listeners: new Set<(r: LogRecord) => void>(),
};

function formatValue(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === "string") return /^[\w.:/@+-]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(3);
  return JSON.stringify(v);
}

export function formatRecord(r: LogRecord): string {
  let line = `${r.time} ${r.level.toUpperCase().padEnd(5)} ${r.category} ${r.message}`;
  for (const [k, v] of Object.entries(r.fields)) {
    if (v !== undefined) line += ` ${k}=${formatValue(v)}`;
  }
  return line;
}

function emit(level: LogLevel, category: string, message: string, fields: LogFields = {}): void {
  if (LEVEL_RANK[level] < LEVEL_RANK[logConfig.level]) return;
  const r: LogRecord = { time: new Date().toISOString(), level, category, message, fields };
  logConfig.write(formatRecord(r));
  if (LEVEL_RANK[level] >= LEVEL_RANK.warn) {
    logConfig.recent.push(r);
    if (logConfig.recent.length > RECENT_MAX) logConfig.recent.shift();
  }
  for (const fn of logConfig.listeners) fn(r);
}

export function getLogger(category: string): Logger {
  return {
    debug: (m, f) => emit("debug", category, m, f),
    info: (m, f) => emit("info", category, m, f),
    warn: (m, f) => emit("warn", category, m, f),
    error: (m, f) => emit("error", category, m, f),
    child: (sub) => getLogger(`${category}.${sub}`),
  };
}
