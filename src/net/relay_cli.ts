/**
 * `deno run -A src/net/relay_cli.ts --profile stage-ap --seed 1 --listen 127.0.0.1:5006
 *  --to 127.0.0.1:5004` — an impairment relay by hand (thin: flags → relay,
 * a stats line every few seconds, until Ctrl-C).
 */

import { parseArgs } from "node:util";
import { UdpImpairmentRelay } from "./impairment_relay.ts";
import { TcpDelayRelay } from "./tcp_delay_relay.ts";
import { WifiImpairment } from "./wifi_impairment.ts";
import { isWifiProfileName, WIFI_PROFILES, type WifiProfileName } from "./wifi_profile.ts";

export const RELAY_USAGE = `deno run -A src/net/relay_cli.ts --to HOST:PORT [flags]
  --profile clean|stage-ap|crowded   Wi-Fi profile (default stage-ap; docs/wifi-relay.md)
  --seed N                 impairment seed (default 1)
  --listen HOST:PORT       where the relay listens (default 127.0.0.1:0, any free port)
  --to HOST:PORT           the target (an IP address)
  --impair to-target|from-target     UDP: the impaired direction (default to-target:
                           RTP, the server sends to --listen; from-target: QUIC/DTLS,
                           the client sends to --listen, --to is the server)
  --tcp                    a TCP relay instead, delaying target → client (WebSocket)
  --stats S                a stats line every S seconds (default 5)`;

export interface RelayArgs {
  profile: WifiProfileName;
  seed: number;
  listen: { hostname: string; port: number };
  to: { hostname: string; port: number };
  impair: "to-target" | "from-target";
  tcp: boolean;
  statsS: number;
}

function hostPort(flag: string, v: string): { hostname: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(v);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || !(port >= 0 && port <= 65535)) {
    throw new RangeError(`--${flag} needs HOST:PORT, got ${v}`);
  }
  return { hostname: m[1].replace(/^\[(.*)\]$/, "$1"), port };
}

export function parseRelayArgs(args: string[]): RelayArgs | null {
  const { values: v } = parseArgs({
    args,
    options: {
      profile: { type: "string", default: "stage-ap" },
      seed: { type: "string", default: "1" },
      listen: { type: "string", default: "127.0.0.1:0" },
      to: { type: "string" },
      impair: { type: "string", default: "to-target" },
      tcp: { type: "boolean", default: false },
      stats: { type: "string", default: "5" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (v.help) return null;
  if (!isWifiProfileName(v.profile)) {
    throw new RangeError(
      `--profile must be one of ${Object.keys(WIFI_PROFILES).join(", ")}, got ${v.profile}`,
    );
  }
  const seed = Number(v.seed);
  if (!Number.isInteger(seed)) throw new RangeError(`--seed needs an integer, got ${v.seed}`);
  if (v.to === undefined) throw new RangeError("--to HOST:PORT is required");
  if (v.impair !== "to-target" && v.impair !== "from-target") {
    throw new RangeError(`--impair must be to-target or from-target, got ${v.impair}`);
  }
  const statsS = Number(v.stats);
  if (!(statsS > 0)) throw new RangeError(`--stats needs seconds > 0, got ${v.stats}`);
  return {
    profile: v.profile,
    seed,
    listen: hostPort("listen", v.listen),
    to: hostPort("to", v.to),
    impair: v.impair,
    tcp: v.tcp,
    statsS,
  };
}

if (import.meta.main) {
  const a = parseRelayArgs(Deno.args);
  if (a === null) {
    console.log(RELAY_USAGE);
    Deno.exit(0);
  }
  const model = new WifiImpairment(WIFI_PROFILES[a.profile], a.seed);
  const relay = a.tcp
    ? new TcpDelayRelay({ target: a.to, model, ...a.listen })
    : new UdpImpairmentRelay({
      target: { transport: "udp", ...a.to },
      model,
      impaired: a.impair,
      ...a.listen,
    });
  console.error(
    `[relay] ${a.tcp ? "tcp" : `udp ${a.impair}`} ${relay.addr.hostname}:${relay.port} → ` +
      `${a.to.hostname}:${a.to.port}, profile ${a.profile}, seed ${a.seed}`,
  );
  const line = () =>
    console.error(
      `[relay] ${
        Object.entries(relay.stats).map(([k, v]) =>
          `${k}=${Number.isInteger(v) ? v : v.toFixed(2)}`
        )
          .join(" ")
      } (packets; maxLateMs in ms)`,
    );
  const every = setInterval(line, a.statsS * 1000);
  const stop = async () => {
    clearInterval(every);
    line();
    await relay.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
