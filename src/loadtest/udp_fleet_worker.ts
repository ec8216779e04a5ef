/** The worker side of ./udp_fleet.ts. */
/// <reference lib="deno.worker" />
import { LoadClient } from "./fleet.ts";
import type { FromFleet, ToFleet } from "./udp_fleet.ts";

const STREAM_TIMEOUT_MS = 30_000;
let fleet: LoadClient[] = [];
const reply = (m: FromFleet) => self.postMessage(m);

self.onmessage = async (e: MessageEvent<ToFleet>) => {
  const m = e.data;
  try {
    if (m.t === "start") {
      fleet = Array.from(
        { length: m.count },
        () => new LoadClient({ server: m.server, channels: m.channels }),
      );
      const end = performance.now() + STREAM_TIMEOUT_MS;
      while (fleet.some((c) => c.client.ack === null)) {
        if (performance.now() > end) throw new Error("UDP clients did not stream within 30 s");
        await new Promise((r) => setTimeout(r, 50));
      }
      reply({ t: "started" });
    } else if (m.t === "snapshot") {
      reply({ t: "snapshot", snaps: fleet.map((c) => c.snapshot()) });
    } else {
      await Promise.all(fleet.splice(0).map((c) => c.stop()));
      reply({ t: "stopped" });
    }
  } catch (err) {
    reply({ t: "error", message: (err as Error).message });
  }
};
