/**
 * Which of the server's own IPv4 addresses a given client reaches us on (for
 * the SDP `c=` line and the QR code). Pure core over an interface list, plus
 * thin wrappers over `Deno.networkInterfaces()`.
 */

/** The fields of `Deno.NetworkInterfaceInfo` this module reads. */
export interface InterfaceInfo {
  name: string;
  family: "IPv4" | "IPv6";
  address: string;
  /** Dotted-quad netmask, e.g. "255.255.255.0". */
  netmask: string;
}

export const LOOPBACK = "127.0.0.1";
const LOOPBACK_NET = 127;
const OCTETS = 4;
const OCTET_MAX = 255;
const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses a dotted-quad IPv4 address to an unsigned 32-bit number; throws RangeError otherwise. */
export function parseIpv4(s: string): number {
  const m = DOTTED_QUAD.exec(s);
  if (!m) throw new RangeError(`not an IPv4 address: "${s}"`);
  let v = 0;
  for (let i = 1; i <= OCTETS; i++) {
    const o = Number(m[i]);
    if (o > OCTET_MAX) throw new RangeError(`IPv4 octet ${o} exceeds 255 in "${s}"`);
    v = v * 256 + o;
  }
  return v;
}

/** True for a dotted quad that `parseIpv4` accepts. */
export function isIpv4(s: string): boolean {
  try {
    parseIpv4(s);
    return true;
  } catch {
    return false;
  }
}

export function isLoopback(addr: string): boolean {
  return isIpv4(addr) && parseIpv4(addr) >>> 24 === LOOPBACK_NET;
}

function ipv4s(ifaces: readonly InterfaceInfo[]): InterfaceInfo[] {
  return ifaces.filter((i) => i.family === "IPv4" && isIpv4(i.address) && isIpv4(i.netmask));
}

/** Non-loopback IPv4 addresses, in interface order, without duplicates. */
export function lanAddressesOf(ifaces: readonly InterfaceInfo[]): string[] {
  const out: string[] = [];
  for (const i of ipv4s(ifaces)) {
    if (!isLoopback(i.address) && !out.includes(i.address)) out.push(i.address);
  }
  return out;
}

/**
 * Our address on the interface whose subnet contains `remoteIp`; "127.0.0.1"
 * for a loopback remote; otherwise the first LAN address (or "127.0.0.1" when
 * there is none). IPv4-mapped IPv6 remotes ("::ffff:a.b.c.d") are unwrapped.
 */
export function localAddressOf(ifaces: readonly InterfaceInfo[], remoteIp: string): string {
  const remote = remoteIp.startsWith("::ffff:") ? remoteIp.slice("::ffff:".length) : remoteIp;
  if (remote === "::1" || isLoopback(remote)) return LOOPBACK;
  if (isIpv4(remote)) {
    const r = parseIpv4(remote);
    let best: InterfaceInfo | null = null;
    let bestMask = -1;
    for (const i of ipv4s(ifaces)) {
      if (isLoopback(i.address)) continue;
      const mask = parseIpv4(i.netmask);
      // Longest prefix wins when subnets nest.
      if (((parseIpv4(i.address) & mask) >>> 0) === ((r & mask) >>> 0) && mask > bestMask) {
        best = i;
        bestMask = mask;
      }
    }
    if (best) return best.address;
  }
  return lanAddressesOf(ifaces)[0] ?? LOOPBACK;
}

function systemInterfaces(): InterfaceInfo[] {
  return Deno.networkInterfaces();
}

/** `localAddressOf` over this machine's interfaces. */
export function localAddressFor(remoteIp: string): string {
  return localAddressOf(systemInterfaces(), remoteIp);
}

/** This machine's non-loopback IPv4 addresses. */
export function lanAddresses(): string[] {
  return lanAddressesOf(systemInterfaces());
}
