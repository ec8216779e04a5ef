/**
 * UDP reference clients (./fleet.ts) in a worker thread of their own: beside
 * listeners whose transports run JavaScript per packet (werift's DTLS and SCTP
 * in the load test's main thread), the UDP clients' receive loops must not
 * wait for that thread, or their own socket buffers would overflow and read
 * as loss the server never caused.
 *
 *   main → worker  {t:"start", server, count, channels} | {t:"snapshot"} | {t:"stop"}
 *   worker → main  {t:"started"} | {t:"snapshot", snaps} | {t:"stopped"} | {t:"error", message}
 */
import type { Snapshot } from "./fleet.ts";

export type ToFleet =
  | { t: "start"; server: string; count: number; channels?: number[] }
  | { t: "snapshot" }
  | { t: "stop" };
export type FromFleet =
  | { t: "started" }
  | { t: "snapshot"; snaps: Snapshot[] }
  | { t: "stopped" }
  | { t: "error"; message: string };

export class UdpFleet {
  private readonly worker: Worker;
  private waiting: ((m: FromFleet) => void)[] = [];

  private constructor() {
    this.worker = new Worker(new URL("./udp_fleet_worker.ts", import.meta.url), {
      type: "module",
      name: "m32-loadtest-udp-fleet",
    });
    this.worker.onmessage = (e: MessageEvent<FromFleet>) => this.waiting.shift()?.(e.data);
  }

  private ask(m: ToFleet): Promise<FromFleet> {
    return new Promise((resolve, reject) => {
      this.waiting.push((r) => r.t === "error" ? reject(new Error(r.message)) : resolve(r));
      this.worker.postMessage(m);
    });
  }

  /** `count` clients of `channels` streaming from `server` (resolves once each has its ack). */
  static async start(server: string, count: number, channels?: number[]): Promise<UdpFleet> {
    const f = new UdpFleet();
    try {
      await f.ask({ t: "start", server, count, channels });
    } catch (e) {
      f.worker.terminate();
      throw e;
    }
    return f;
  }

  async snapshot(): Promise<Snapshot[]> {
    const r = await this.ask({ t: "snapshot" });
    return r.t === "snapshot" ? r.snaps : [];
  }

  async stop(): Promise<void> {
    await this.ask({ t: "stop" }).catch(() => {});
    this.worker.terminate();
  }
}
