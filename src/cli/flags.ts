/**
 * A small command-line flag parser: `--name value`, `--name=value`, boolean
 * `--flag`. Unknown flags are errors, so a typo never passes silently.
 */
export interface FlagSpec {
  /** Flags that take a value. */
  values: readonly string[];
  /** Flags that are switches. */
  switches?: readonly string[];
}

export type Flags = Record<string, string | boolean>;

export function parseFlags(
  args: readonly string[],
  spec: FlagSpec,
): { flags: Flags; rest: string[] } {
  const flags: Flags = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("--")) {
      rest.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq === -1 ? undefined : eq);
    if (spec.switches?.includes(name)) {
      flags[name] = eq === -1 ? true : a.slice(eq + 1) !== "false";
    } else if (spec.values.includes(name)) {
      const v = eq === -1 ? args[++i] : a.slice(eq + 1);
      if (v === undefined) throw new Error(`--${name} needs a value`);
      flags[name] = v;
    } else {
      throw new Error(`unknown flag --${name}`);
    }
  }
  return { flags, rest };
}

/** An integer from a flag, else an environment variable, else a default; range-checked. */
export function intOption(
  flags: Flags,
  name: string,
  env: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = flags[name] ?? (env ? Deno.env.get(env) : undefined);
  if (raw === undefined || raw === true) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`--${name} must be an integer ${min}–${max}, got ${raw}`);
  }
  return n;
}
