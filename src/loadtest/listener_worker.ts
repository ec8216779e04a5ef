/** The worker side of ./listener_pool.ts: some of the headless listeners. */
/// <reference lib="deno.worker" />
import { HeadlessListener } from "./headless_listener.ts";
import type { FromListeners, ListenerState, ToListeners } from "./listener_pool.ts";

const listeners = new Map<number, HeadlessListener>();
const reply = (m: FromListeners) => self.postMessage(m);

function stateOf(id: number, l: HeadlessListener, latency: boolean): ListenerState {
  const a = l.ack;
  return {
    id,
    mix: l.mix,
    snap: l.snapshot(),
    transport: l.conn.transport,
    ack: a ? { channels: a.channels, compression: a.compression, encoding: a.encoding } : null,
    lastState: l.lastState,
    ...(latency ? { latency: l.latency.toJSON() } : {}),
  };
}

self.onmessage = (e: MessageEvent<ToListeners>) => {
  const m = e.data;
  try {
    if (m.t === "add") {
      listeners.set(m.id, new HeadlessListener(m.base, m.transport, m.mix).start());
      reply({ t: "ok" });
    } else if (m.t === "state") {
      reply({
        t: "state",
        states: [...listeners].map(([id, l]) => stateOf(id, l, m.latency)),
      });
    } else if (m.t === "reset") {
      for (const l of listeners.values()) l.latency.reset();
      reply({ t: "ok" });
    } else {
      for (const l of listeners.values()) l.stop();
      listeners.clear();
      reply({ t: "ok" });
    }
  } catch (err) {
    reply({ t: "error", message: (err as Error).message });
  }
};
