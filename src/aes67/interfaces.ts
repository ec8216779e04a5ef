/**
 * The network interfaces the AES67 output may use: the default route's (from
 * /proc/net/route), or one named by the admin; each with its index, IPv4
 * address and MAC (the system clock's `ts-refclk:localmac=`).
 */

import type { InterfaceInfo } from "./view.ts";

export type { InterfaceInfo };

/** The interface of the default IPv4 route in /proc/net/route's text, or null. */
export function parseDefaultRoute(text: string): string | null {
  let best: { name: string; metric: number } | null = null;
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[1] !== "00000000" || f[7] !== "00000000") continue;
    const metric = Number(f[6]);
    if (!best || metric < best.metric) best = { name: f[0], metric };
  }
  return best?.name ?? null;
}

export function defaultRouteInterface(): string | null {
  try {
    return parseDefaultRoute(Deno.readTextFileSync("/proc/net/route"));
  } catch {
    return null;
  }
}

function readSys(name: string, file: string): string | null {
  try {
    return Deno.readTextFileSync(`/sys/class/net/${name}/${file}`).trim();
  } catch {
    return null;
  }
}

/** Every interface with an IPv4 address (what the admin page offers). */
export function listInterfaces(): InterfaceInfo[] {
  const seen = new Map<string, InterfaceInfo>();
  for (const ni of Deno.networkInterfaces()) {
    if (ni.family !== "IPv4" || seen.has(ni.name)) continue;
    const index = Number(readSys(ni.name, "ifindex"));
    if (!Number.isInteger(index) || index <= 0) continue;
    const flags = Number(readSys(ni.name, "flags") ?? "0");
    seen.set(ni.name, {
      name: ni.name,
      index,
      address: ni.address,
      mac: readSys(ni.name, "address") ?? ni.mac,
      up: (flags & 1) === 1,
    });
  }
  return [...seen.values()];
}

/** The interface `name` ("" = the default route's), or why it cannot be used. */
export function resolveInterface(name: string): InterfaceInfo | { error: string } {
  const wanted = name || defaultRouteInterface();
  if (!wanted) return { error: "no default route: choose the wired interface" };
  const info = listInterfaces().find((i) => i.name === wanted);
  if (!info) return { error: `interface ${wanted} has no IPv4 address (or does not exist)` };
  return info;
}
