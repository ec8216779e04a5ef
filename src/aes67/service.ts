/**
 * The AES67 output on the control plane (docs/protocol.md §13, docs/aes67.md):
 * turns `aes67.output` and the channel mapping into streams, hands the audio
 * plane its send plan (./output.ts, where the packets are made), announces
 * every stream with SAP (./sap_announcer.ts) every 30 s (a new one also
 * SAP_REPEATS_MS after it starts) and deletes what stops, and follows the
 * clock: a locked ptp4l (./ptp.ts, read with pmc every PTP_POLL_MS) or the
 * system clock. A change here never ends a phone
 * session; turning the output on or off reopens the source once (its period
 * becomes 1 ms while the output is on: src/audio/source_factory.ts).
 */
import type { ChannelConfig, Config } from "../config/types.ts";
import { mappedChannels } from "../config/types.ts";
import type { Logger } from "../util/log.ts";
import { defaultRouteInterface, listInterfaces, resolveInterface } from "./interfaces.ts";
import type { Aes67StreamView, Aes67View, InterfaceInfo } from "./view.ts";

export type { Aes67StreamView, Aes67View } from "./view.ts";
import type { Aes67SendPlan, Aes67SendStatus } from "./output.ts";
import { planStreams } from "./plan.ts";
import { defaultPtpReader, type PtpState } from "./ptp.ts";
import { SapSocket } from "./sap_announcer.ts";
import { SAP_INTERVAL_MS } from "./sap_packet.ts";
import { buildStreamSdp, type RefClock } from "./sdp_build.ts";

export const PTP_POLL_MS = 10_000;
/**
 * A new (or changed) session is announced again this long after its first announcement. One
 * announcement every 30 s means a receiver that missed the first (its group join not through
 * yet, a lost datagram: a box booted before this one) has no audio for up to 30 s; with these it
 * has it in seconds. Receivers do not take the repeats for the interval (ours ignores a repeat
 * within a second; RFC 2974's timeout is at least an hour).
 */
export const SAP_REPEATS_MS = [1000, 4000];

export interface Aes67Plane {
  configureAes67(plan: Aes67SendPlan | null): void;
  readonly aes67Status: Aes67SendStatus;
}

export interface Aes67ServiceOptions {
  config(): Config;
  channels(): ChannelConfig[];
  plane: Aes67Plane;
  /** The output turned on or off: capture follows (it runs while the output is on). */
  onEnabledChange(enabled: boolean): void;
  log: Logger;
  /** A random u32 (SSRCs, sequence numbers, SDP session ids). */
  random(): number;
  /** The PTP state (default: pmc); null = the system clock. */
  readPtp?: () => Promise<PtpState | null>;
  ptpPollMs?: number;
  sapIntervalMs?: number;
  /** Default SAP_REPEATS_MS. */
  sapRepeatsMs?: number[];
}

interface Announced {
  group: string;
  sdp: string;
}

export class Aes67Service {
  private ptp: PtpState | null = null;
  private enabled = false;
  private sendKey = "";
  private plan: Aes67SendPlan | null = null;
  private streams: Aes67StreamView[] = [];
  private announced: Announced[] = [];
  private origin = "";
  private iface: InterfaceInfo | null = null;
  private error = "";
  private sap: SapSocket | null = null;
  private sapKey = "";
  private sapSent = 0;
  private sessionIds = new Map<string, number>();
  private readonly versions = new Map<string, number>();
  private sapTimer: ReturnType<typeof setInterval> | null = null;
  private ptpTimer: ReturnType<typeof setInterval> | null = null;
  private readonly repeatTimers = new Set<ReturnType<typeof setTimeout>>();
  private polling = false;
  private polledAt = 0;
  private closed = false;

  private readonly readClock: () => Promise<PtpState | null>;

  constructor(private readonly o: Aes67ServiceOptions) {
    this.readClock = o.readPtp ?? defaultPtpReader();
  }

  /**
   * Applies the stored settings (reading the clock first when the output is on) and starts
   * the SAP and PTP timers. The clock is polled only while the output is on, or when the
   * admin page asks (view()), so a box without AES67 runs no pmc.
   */
  async start(): Promise<void> {
    if (this.o.config().aes67.output.enabled) await this.pollPtp(false);
    this.apply();
    this.sapTimer = setInterval(() => this.announceAll(), this.o.sapIntervalMs ?? SAP_INTERVAL_MS);
    // While on: the clock, and the interface again (at boot the network may come up after the
    // server; an address from DHCP may change): apply() changes nothing when nothing changed.
    this.ptpTimer = setInterval(() => {
      if (!this.enabled) return;
      this.apply();
      void this.pollPtp(true);
    }, this.o.ptpPollMs ?? PTP_POLL_MS);
  }

  private async pollPtp(applyChange: boolean): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    this.polledAt = Date.now();
    try {
      const next = await this.readClock();
      const changed = JSON.stringify(next) !== JSON.stringify(this.ptp);
      if (changed) {
        this.o.log.info("aes67 clock", {
          source: next ? "ptp" : "system",
          grandmaster: next?.grandmaster,
          domain: next?.domain,
          port_state: next?.portState,
        });
      }
      this.ptp = next;
      if (changed && applyChange && !this.closed) this.apply();
    } finally {
      this.polling = false;
    }
  }

  /** The configuration or the channel mapping changed (ConfigStore.onChange), or the clock did. */
  readonly apply = (): void => {
    if (this.closed) return;
    const cfg = this.o.config();
    const out = cfg.aes67.output;
    if (out.enabled !== this.enabled) {
      this.enabled = out.enabled;
      this.o.onEnabledChange(out.enabled);
      // Turned on: read the clock now (a change re-applies and re-announces).
      if (out.enabled) void this.pollPtp(true);
    }
    if (!out.enabled) return this.stopAll("");
    const iface = resolveInterface(out.interface);
    if ("error" in iface) return this.stopAll(iface.error);
    this.iface = iface;
    this.error = "";
    const ids = mappedChannels(this.o.channels()).map((c) => c.id);
    const names = new Map(this.o.channels().map((c) => [c.id, c.name]));
    const layout = planStreams(ids, out.channels_per_stream, out.multicast_base);
    const rate = cfg.audio.native_sample_rate;
    const utcOffsetS = this.ptp?.utcOffsetS ?? 0;
    const sendKey = JSON.stringify([
      iface.index,
      out.ttl,
      out.dscp,
      out.ptime_us,
      layout,
      utcOffsetS,
    ]);
    if (sendKey !== this.sendKey) {
      this.sendKey = sendKey;
      this.plan = {
        ifindex: iface.index,
        address: iface.address,
        ttl: out.ttl,
        dscp: out.dscp,
        ptimeUs: out.ptime_us,
        utcOffsetS,
        streams: layout.map((s) => ({
          group: s.group,
          channels: s.channels,
          ssrc: this.o.random() >>> 0,
          sequence: this.o.random() & 0xffff,
        })),
      };
      this.o.plane.configureAes67(this.plan);
      this.o.log.info("aes67 output", {
        interface: iface.name,
        streams: layout.length,
        channels: ids.length,
        ptime_us: out.ptime_us,
        first_group: layout[0]?.group,
      });
    }
    const sapKey = JSON.stringify([iface.index, out.ttl, out.dscp]);
    // Deletions of what changed leave through the socket (interface) they were announced on.
    let oldSap: SapSocket | null = null;
    if (sapKey !== this.sapKey || !this.sap) {
      oldSap = this.sap;
      this.sap = null;
      this.sapKey = sapKey;
      try {
        this.sap = new SapSocket({ ifindex: iface.index, ttl: out.ttl, dscp: out.dscp });
      } catch (e) {
        this.error = `SAP socket: ${(e as Error).message}`;
      }
    }
    const refclk: RefClock = this.ptp
      ? { kind: "ptp", grandmaster: this.ptp.grandmaster, domain: this.ptp.domain }
      : { kind: "system", mac: iface.mac };
    const plan = this.plan!;
    const prevSdps = new Map(this.announced.map((a) => [a.group, a.sdp]));
    this.streams = layout.map((s, k) => {
      const name = `${out.name} ${s.index + 1}`;
      const sdpOf = (version: number) =>
        buildStreamSdp({
          sessionId: this.sessionId(s.group),
          version,
          origin: iface.address,
          name: out.name,
          index: s.index,
          group: s.group,
          ttl: out.ttl,
          sampleRate: rate,
          channelNames: s.channels.map((id) => names.get(id) ?? `CH${id}`),
          ptimeUs: out.ptime_us,
          refclk,
          mediaclkOffset: 0,
        });
      // Each session's version (o=) goes up when its own description changes.
      const version = this.versions.get(s.group) ?? 1;
      let sdp = sdpOf(version);
      const prev = prevSdps.get(s.group);
      if (prev !== undefined && prev !== sdp) {
        this.versions.set(s.group, version + 1);
        sdp = sdpOf(version + 1);
      } else this.versions.set(s.group, version);
      return {
        index: s.index,
        name,
        group: s.group,
        port: 5004,
        channels: s.channels,
        ssrc: plan.streams[k].ssrc,
        sdp,
      };
    });
    const next: Announced[] = this.streams.map((s) => ({ group: s.group, sdp: s.sdp }));
    const keep = new Set(next.map((a) => a.sdp));
    const gone = this.announced.filter((a) => !keep.has(a.sdp));
    const fresh = next.filter((a) => !this.announced.some((b) => b.sdp === a.sdp));
    const oldOrigin = this.origin;
    this.origin = iface.address;
    this.announced = next;
    void this.sendAll(gone, oldOrigin || iface.address, true, oldSap ?? this.sap).then(() => {
      oldSap?.close();
      return this.sendAll(fresh, iface.address, false);
    });
    if (fresh.length > 0) this.repeatSoon(fresh);
  };

  /** SAP_REPEATS_MS: the sessions in `list` still announced then (not deleted or changed since). */
  private repeatSoon(list: Announced[]): void {
    const sdps = new Set(list.map((a) => a.sdp));
    for (const ms of this.o.sapRepeatsMs ?? SAP_REPEATS_MS) {
      const timer = setTimeout(() => {
        this.repeatTimers.delete(timer);
        const still = this.announced.filter((a) => sdps.has(a.sdp));
        if (still.length > 0) void this.sendAll(still, this.origin, false);
      }, ms);
      this.repeatTimers.add(timer);
    }
  }

  private sessionId(group: string): number {
    let id = this.sessionIds.get(group);
    if (id === undefined) this.sessionIds.set(group, id = this.o.random() >>> 0);
    return id;
  }

  private async sendAll(
    list: Announced[],
    origin: string,
    deletion: boolean,
    sap = this.sap,
  ): Promise<void> {
    if (!sap) return;
    for (const a of list) {
      const errors = sap.errors;
      await sap.send(origin, a.sdp, deletion);
      if (sap.errors === errors) this.sapSent++;
    }
  }

  private announceAll(): void {
    if (this.announced.length > 0) void this.sendAll(this.announced, this.origin, false);
  }

  /** Output off (or its interface unusable): deletions for what was announced, the plane stops. */
  private stopAll(error: string): void {
    if (error && error !== this.error) this.o.log.warn("aes67 output cannot send", { error });
    this.error = error;
    const gone = this.announced;
    this.announced = [];
    this.streams = [];
    if (this.plan) this.o.plane.configureAes67(null);
    this.plan = null;
    this.sendKey = "";
    const sap = this.sap;
    this.sap = null;
    this.sapKey = "";
    const origin = this.origin;
    if (sap) {
      void (async () => {
        for (const a of gone) await sap.send(origin, a.sdp, true);
        sap.close();
      })();
    }
  }

  view(): Aes67View {
    const cfg = this.o.config().aes67.output;
    // Output off: the clock is read when someone looks (the next view shows it).
    if (!cfg.enabled && Date.now() - this.polledAt > (this.o.ptpPollMs ?? PTP_POLL_MS)) {
      void this.pollPtp(false);
    }
    const st = this.o.plane.aes67Status;
    const error = this.error || st.error;
    return {
      output: {
        enabled: cfg.enabled,
        state: !cfg.enabled ? "off" : error ? "error" : "sending",
        error,
        interface: cfg.enabled ? this.iface : null,
        streams: this.streams,
        packets: st.packets,
        send_errors: st.errors,
        last_send_error: st.lastError,
        drift_samples: Math.round(st.driftSamples),
        sap_sent: this.sapSent,
      },
      clock: {
        source: this.ptp ? "ptp" : "system",
        grandmaster: this.ptp?.grandmaster ?? null,
        domain: this.ptp?.domain ?? null,
        utc_offset_s: this.ptp?.utcOffsetS ?? null,
        port_state: this.ptp?.portState ?? null,
        refclk: this.streams[0]?.sdp.match(/a=ts-refclk:(\S+)/)?.[1] ?? null,
      },
      interfaces: listInterfaces(),
      default_interface: defaultRouteInterface(),
    };
  }

  /** /health's summary (no pmc, no interface scan). */
  health(): {
    output: Aes67View["output"]["state"];
    streams: number;
    clock: "ptp" | "system";
    grandmaster: string | null;
    domain: number | null;
  } {
    const enabled = this.o.config().aes67.output.enabled;
    const error = this.error || this.o.plane.aes67Status.error;
    return {
      output: !enabled ? "off" : error ? "error" : "sending",
      streams: this.streams.length,
      clock: this.ptp ? "ptp" : "system",
      grandmaster: this.ptp?.grandmaster ?? null,
      domain: this.ptp?.domain ?? null,
    };
  }

  /** Deletions for every announced stream, then the timers and the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.sapTimer !== null) clearInterval(this.sapTimer);
    if (this.ptpTimer !== null) clearInterval(this.ptpTimer);
    for (const timer of this.repeatTimers) clearTimeout(timer);
    this.repeatTimers.clear();
    const sap = this.sap;
    const gone = this.announced;
    this.closed = true;
    this.announced = [];
    if (sap) {
      for (const a of gone) await sap.send(this.origin, a.sdp, true);
      sap.close();
    }
    this.sap = null;
  }
}
