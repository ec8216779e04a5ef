/**
 * The DataChannel behind a relay: the server's answer names its own ICE host
 * candidates, so the browser would reach it directly. The bench rewrites the
 * answer on its way to the page (bench/wifi/main.ts, playwright's WebSocket
 * route) so its only candidate is the relay, and points the relay at the
 * server's loopback candidate.
 */

export interface Rewritten {
  sdp: string;
  /** The server's loopback UDP candidate (the relay's target), or null when it has none. */
  target: { hostname: string; port: number } | null;
}

const CANDIDATE = /^a=candidate:\S+ (\d+) (udp|UDP) \d+ (\S+) (\d+) typ (\S+)/;

/** Every candidate line replaced by one host candidate at `host:port`. */
export function candidatesToRelay(sdp: string, host: string, port: number): Rewritten {
  const eol = sdp.includes("\r\n") ? "\r\n" : "\n";
  const lines = sdp.split(eol);
  let target: Rewritten["target"] = null;
  const out: string[] = [];
  let placed = false;
  for (const line of lines) {
    const m = CANDIDATE.exec(line);
    if (!line.startsWith("a=candidate:")) {
      out.push(line);
      continue;
    }
    if (m && m[1] === "1" && m[3] === host && target === null) {
      target = { hostname: m[3], port: Number(m[4]) };
    }
    if (!placed) {
      out.push(`a=candidate:1 1 udp 2130706431 ${host} ${port} typ host`);
      placed = true;
    }
  }
  return { sdp: out.join(eol), target };
}

/** The description without its candidates (the other side learns the address from the checks). */
export function withoutCandidates(sdp: string): string {
  const eol = sdp.includes("\r\n") ? "\r\n" : "\n";
  return sdp.split(eol).filter((l) => !l.startsWith("a=candidate:")).join(eol);
}
