/**
 * Scenario 3's kernel-level loss: a reference client (the `client` command)
 * in its own network namespace, joined to the host by a veth pair, with an
 * nftables rule on the namespace's input hook dropping a random N % of the
 * RTP datagrams:
 *
 *   table inet m32lt { chain input { type filter hook input priority 0;
 *     udp dport <P> numgen random mod 100 < N drop } }
 *
 * Needs root, `ip` and `nft`; `netnsAvailable()` says why not otherwise. The
 * namespace (and with it the veth pair) is removed afterwards.
 */

const HOST_IP = "10.231.77.1";
const NS_IP = "10.231.77.2";
const MAIN_TS = new URL("../../main.ts", import.meta.url).pathname;

/** Runs a command to completion; never throws (a missing program is `ok: false`). */
export async function runCommand(args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await new Deno.Command(args[0], {
      args: args.slice(1),
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const dec = new TextDecoder();
    return { ok: r.success, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
  } catch (e) {
    return { ok: false, out: (e as Error).message };
  }
}

/** null when usable, else the reason it is not. */
export async function netnsAvailable(): Promise<string | null> {
  if (Deno.uid?.() !== 0) return "not root (network namespaces need CAP_NET_ADMIN)";
  const ip = await runCommand(["ip", "netns", "list"]);
  if (!ip.ok) return `ip netns unavailable: ${ip.out.trim()}`;
  const nft = await runCommand(["nft", "--version"]);
  if (!nft.ok) return `nft unavailable: ${nft.out.trim()}`;
  return null;
}

export interface NetnsResult {
  configured_loss_pct: number;
  summary: Record<string, unknown> | null;
  error: string | null;
}

/**
 * Runs one client for `durationS` against the server's HTTP port on the host
 * side of the veth (the server must listen on 0.0.0.0).
 */
export async function runNetnsDrop(
  httpPort: number,
  lossPct: number,
  durationS: number,
  channels: number[] | undefined,
): Promise<NetnsResult> {
  const tag = String(Deno.pid % 100000);
  const ns = `m32lt${tag}`, vh = `m32h${tag}`, vc = `m32c${tag}`;
  const udpPort = 5004;
  const steps = [
    ["ip", "netns", "add", ns],
    ["ip", "link", "add", vh, "type", "veth", "peer", "name", vc],
    ["ip", "link", "set", vc, "netns", ns],
    ["ip", "addr", "add", `${HOST_IP}/30`, "dev", vh],
    ["ip", "link", "set", vh, "up"],
    ["ip", "netns", "exec", ns, "ip", "addr", "add", `${NS_IP}/30`, "dev", vc],
    ["ip", "netns", "exec", ns, "ip", "link", "set", vc, "up"],
    ["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"],
    ["ip", "netns", "exec", ns, "nft", "add", "table", "inet", "m32lt"],
    [
      "ip",
      "netns",
      "exec",
      ns,
      "nft",
      "add",
      "chain",
      "inet",
      "m32lt",
      "input",
      "{ type filter hook input priority 0; policy accept; }",
    ],
    [
      "ip",
      "netns",
      "exec",
      ns,
      "nft",
      "add",
      "rule",
      "inet",
      "m32lt",
      "input",
      "udp",
      "dport",
      String(udpPort),
      "numgen",
      "random",
      "mod",
      "100",
      "<",
      String(lossPct),
      "drop",
    ],
  ];
  try {
    for (const s of steps) {
      const r = await runCommand(s);
      if (!r.ok) {
        return {
          configured_loss_pct: lossPct,
          summary: null,
          error: `${s.join(" ")}: ${r.out.trim()}`,
        };
      }
    }
    const args = [
      "netns",
      "exec",
      ns,
      Deno.execPath(),
      "run",
      "--allow-all",
      "--unstable-net",
      MAIN_TS,
      "client",
      "--server",
      `http://${HOST_IP}:${httpPort}`,
      "--udp-port",
      String(udpPort),
      "--duration",
      String(durationS),
      "--json",
      "--settings",
      "none",
    ];
    if (channels) args.push("--channels", channels.join(","));
    const r = await new Deno.Command("ip", { args, stdout: "piped", stderr: "piped" }).output();
    const lines = new TextDecoder().decode(r.stdout).trim().split("\n");
    try {
      return {
        configured_loss_pct: lossPct,
        summary: JSON.parse(lines[lines.length - 1]),
        error: null,
      };
    } catch {
      return {
        configured_loss_pct: lossPct,
        summary: null,
        error: `client printed no summary: ${new TextDecoder().decode(r.stderr).slice(-400)}`,
      };
    }
  } finally {
    await runCommand(["ip", "netns", "del", ns]);
    await runCommand(["ip", "link", "del", vh]); // normally gone with the namespace
  }
}
