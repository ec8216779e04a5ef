/**
 * A wired LAN of boxes in network namespaces, for AES67 tests (multicast
 * between boxes, docs/aes67.md "What the tests showed"):
 *
 *   root namespace: bridge m32br<tag> 10.214.N.1/24 (the test process, a phone)
 *        ├── veth ─ namespace m32-<tag>-0: eth0 10.214.N.2/24   ("box A")
 *        └── veth ─ namespace m32-<tag>-1: eth0 10.214.N.3/24   ("box B")
 *
 * Each box has a multicast route (224.0.0.0/4 dev eth0) and nothing else, so
 * its multicast goes on the wire; with `defaultRoute` its default route is
 * eth0 too (via the bridge), so a server's `interface: ""` (the default
 * route's) picks eth0. The bridge floods multicast (snooping off: there is no
 * IGMP querier on a test LAN). Needs root (CAP_NET_ADMIN) and iproute2;
 * `lanUnavailable()` says why not where they are missing, and
 * `namespacesUnavailable()` also tries to make a namespace and looks for the
 * test's tools. Used by the AES67 tests (input, box to box, peers, ptp4l).
 */

export interface LanBox {
  ns: string;
  address: string;
}

export interface Lan {
  bridge: string;
  /** The root namespace's address on the LAN (the test process). */
  hostAddress: string;
  boxes: LanBox[];
  /** A command run inside box i's namespace. */
  command(i: number, program: string, args: string[], opts?: Deno.CommandOptions): Deno.Command;
  close(): Promise<void>;
}

async function ip(args: string[], ns?: string): Promise<void> {
  const full = ns ? ["netns", "exec", ns, "ip", ...args] : args;
  const out = await new Deno.Command("ip", { args: full, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`ip ${full.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/** Why a LAN cannot be made here, or null when it can. */
export function lanUnavailable(): string | null {
  if (Deno.build.os !== "linux") return "network namespaces are Linux only";
  try {
    if (Deno.uid() !== 0) return "network namespaces need root (CAP_NET_ADMIN)";
  } catch {
    return "cannot tell the user id";
  }
  try {
    Deno.statSync("/usr/sbin/ip");
  } catch {
    try {
      Deno.statSync("/sbin/ip");
    } catch {
      return "iproute2 (ip) is not installed";
    }
  }
  return null;
}

/**
 * Why no LAN can be made here, or null: `lanUnavailable()`, then each of
 * `tools` on PATH, then a namespace actually made and removed (a container
 * may refuse it even to root).
 */
export async function namespacesUnavailable(tools: string[] = []): Promise<string | null> {
  const why = lanUnavailable();
  if (why) return why;
  for (const t of tools) {
    const r = await new Deno.Command("sh", { args: ["-c", `command -v ${t}`], stdout: "null" })
      .output();
    if (!r.success) return `${t} is not installed: run \`bash .ci/setup test\``;
  }
  const probe = `m32-probe-${Deno.pid}`;
  try {
    await ip(["netns", "add", probe]);
  } catch (e) {
    return `no network namespaces here: ${(e as Error).message}`;
  }
  await ip(["netns", "del", probe]).catch(() => {});
  return null;
}

export interface LanOptions {
  /** Each box's default route is eth0, via the bridge's address. */
  defaultRoute?: boolean;
}

let made = 0;

export async function createLan(boxes: number, opts: LanOptions = {}): Promise<Lan> {
  const tag = `${Deno.pid % 10000}${made++}`;
  const subnet = `10.214.${(Deno.pid + made * 37) % 250}`;
  const bridge = `m32br${tag}`;
  const names: string[] = [];
  const lan: Lan = {
    bridge,
    hostAddress: `${subnet}.1`,
    boxes: [],
    command: (i, program, args, opts = {}) =>
      new Deno.Command("ip", {
        ...opts,
        args: ["netns", "exec", lan.boxes[i].ns, program, ...args],
      }),
    async close() {
      for (const ns of names) await ip(["netns", "del", ns]).catch(() => {});
      await ip(["link", "del", bridge]).catch(() => {});
    },
  };
  try {
    await ip(["link", "add", bridge, "type", "bridge", "mcast_snooping", "0"]);
    await ip(["addr", "add", `${subnet}.1/24`, "dev", bridge]);
    await ip(["link", "set", bridge, "up"]);
    for (let i = 0; i < boxes; i++) {
      const ns = `m32-${tag}-${i}`;
      const host = `m32v${tag}${i}`;
      await ip(["netns", "add", ns]);
      names.push(ns);
      await ip(["link", "add", host, "type", "veth", "peer", "name", `${host}p`]);
      await ip(["link", "set", `${host}p`, "netns", ns]);
      await ip(["link", "set", host, "master", bridge]);
      await ip(["link", "set", host, "up"]);
      await ip(["link", "set", "lo", "up"], ns);
      await ip(["link", "set", `${host}p`, "name", "eth0"], ns);
      await ip(["addr", "add", `${subnet}.${i + 2}/24`, "dev", "eth0"], ns);
      await ip(["link", "set", "eth0", "up"], ns);
      await ip(["route", "add", "224.0.0.0/4", "dev", "eth0"], ns);
      if (opts.defaultRoute) {
        await ip(["route", "add", "default", "via", `${subnet}.1`, "dev", "eth0"], ns);
      }
      lan.boxes.push({ ns, address: `${subnet}.${i + 2}` });
    }
  } catch (e) {
    await lan.close();
    throw e;
  }
  return lan;
}
