/**
 * AES67 input as the box's source (kind "aes67", docs/protocol.md §13): the
 * streams of one sender (resolved from SAP or an SDP file by ./input.ts, on
 * the control plane) are received here, where sources run (the audio plane),
 * put together by ./reassembler.ts and handed to the sink period by period,
 * as the console's USB periods are.
 *
 * Capture time: when the sender's media clock follows a real clock (PTP
 * time, which is TAI, or the system clock, UTC) and ours agrees within a
 * second, a period's capture time is read from its RTP timestamp; otherwise
 * it is estimated from arrival (the earliest arrival of the last two
 * seconds, so network jitter does not move it).
 *
 * A stream that delivers nothing for `stuckMs` (from start, or since its
 * last packet) is a device fault: the source stops and tells the listener
 * (the capture controller retries, as for a vanished USB device).
 */
import type { Clock } from "../util/clock.ts";
import type { Period, PeriodSink, Source, SourceFormat, SourceListener } from "../audio/source.ts";
import { MAX_CHANNELS } from "../audio/source.ts";
import { Reassembler } from "./reassembler.ts";
import { openMulticastReceiver } from "./multicast_socket.ts";

/** One stream to receive, as plain data (it crosses to the audio plane's worker). */
export interface Aes67StreamSpec {
  /** The stream's `s=` line (for messages). */
  name: string;
  group: string;
  port: number;
  payloadType: number;
  encoding: "L24" | "L16";
  sampleRate: number;
  channels: number;
  mediaclkOffset: number;
  /** Only packets from this address count (`a=source-filter`), or null. */
  sourceAddress: string | null;
  ptimeMs: number | null;
}

export interface Aes67SourceOptions {
  /** What the admin asked for (for messages). */
  session: string;
  streams: Aes67StreamSpec[];
  sampleRate: number;
  framesPerPeriod: number;
  clock: Clock;
  interfaceAddress?: string;
  stuckMs?: number;
  /** How long a period waits for a missing piece at first (ms; default AES67_WAIT_MS). */
  waitMs?: number;
  log?: (level: "info" | "warn", msg: string, fields?: Record<string, unknown>) => void;
}

export const AES67_STUCK_MS = 1000;
/**
 * How long a period waits for a missing piece (reordering, one stream of a
 * sender arriving behind another: GStreamer's branches and a busy receiving
 * thread were seen 2–6 ms apart). Only a missing piece waits.
 */
export const AES67_WAIT_MS = 20;
/** The most that wait grows to when pieces keep coming after their period left. */
export const AES67_MAX_WAIT_MS = 100;
const WATCH_MS = 100;
/** How often the receive counters are logged (when they changed beyond the packet count). */
const STATS_EVERY_MS = 10_000;
/** A give-up timer this late means the thread was held up (not counted as waiting). */
const HELD_UP_MS = 3;
const RTP_HEADER = 12;
/** TAI − UTC since 2017 (PTP time is TAI). */
const TAI_UTC_S = 37;
const TWO32 = 4294967296;
/** A media clock is taken as ours when its newest data is this old or younger (ms). */
const MEDIA_AGE_MAX_MS = 1000;
const MEDIA_AGE_MIN_MS = -50;
const ARRIVAL_WINDOW_MS = 2000;

export class Aes67Source implements Source {
  readonly kind = "aes67" as const;
  private conns: (Deno.DatagramConn | null)[] = [];
  private generation = 0;
  private watch: ReturnType<typeof setInterval> | undefined;
  private lastPacketMs: number[] = [];
  private ssrc: (number | null)[] = [];
  private reasm: Reassembler | null = null;
  /** The media clock's base: "utc", "tai", or "arrival" (no common clock). */
  private timeBase: "utc" | "tai" | "arrival" | null = null;
  /** Arrival estimate: min over the current and previous window of (arrival − media time). */
  private arrMin = Infinity;
  private arrPrevMin = Infinity;
  private arrWindowStart = 0;
  private sink: PeriodSink | null = null;
  private readonly emit = (p: Period, mediaPos: number) => this.deliver(p, mediaPos);
  /** Gives up on a missing piece when its wait runs out (armed only while a period is overdue). */
  private overdueTimer: ReturnType<typeof setTimeout> | undefined;

  private armOverdue(gen: number, now: number): void {
    const reasm = this.reasm!;
    const delay = Math.max(0, reasm.overdueAt - now);
    const due = now + delay;
    this.overdueTimer = setTimeout(() => {
      this.overdueTimer = undefined;
      if (this.generation !== gen) return;
      const t = performance.now();
      const held = t - due;
      if (held > HELD_UP_MS) {
        // This thread was held up (a loaded host): the time it did not run is no wait, and
        // the sockets' backlog is read before anything is given up.
        reasm.postpone(held);
      } else {
        reasm.flush(this.emit, t);
      }
      if (reasm.overdueAt >= 0) this.armOverdue(gen, t);
    }, delay);
  }

  constructor(private readonly o: Aes67SourceOptions) {}

  get stats() {
    return this.reasm?.stats ?? null;
  }

  async start(sink: PeriodSink, listener: SourceListener): Promise<SourceFormat> {
    if (this.conns.length > 0) throw new Error("AES67 source is already started");
    const o = this.o;
    if (o.streams.length === 0) throw new Error(`AES67 session "${o.session}" has no streams`);
    const total = o.streams.reduce((n, s) => n + s.channels, 0);
    if (total > MAX_CHANNELS) {
      throw new Error(
        `AES67 session "${o.session}" has ${total} channels; the box takes at most ${MAX_CHANNELS}`,
      );
    }
    for (const s of o.streams) {
      if (s.sampleRate !== o.sampleRate) {
        throw new Error(
          `AES67 stream "${s.name}" runs at ${s.sampleRate} Hz; the box runs at ${o.sampleRate} Hz`,
        );
      }
    }
    const seen = new Set<string>();
    for (const s of o.streams) {
      const k = `${s.group}:${s.port}`;
      if (seen.has(k)) throw new Error(`two AES67 streams of "${o.session}" share ${k}`);
      seen.add(k);
    }
    const gen = ++this.generation;
    this.reasm = new Reassembler({
      streams: o.streams.map((s) => ({
        channels: s.channels,
        bytesPerSample: s.encoding === "L24" ? 3 : 2,
        mediaclkOffset: s.mediaclkOffset,
      })),
      outputChannels: MAX_CHANNELS,
      framesPerPeriod: o.framesPerPeriod,
      sampleRate: o.sampleRate,
      // Reorder and stream-to-stream skew tolerated (waited for only when a piece is missing).
      waitMs: o.waitMs ??
        Math.max(AES67_WAIT_MS, ...o.streams.map((s) => 4 * (s.ptimeMs ?? 1))),
      maxWaitMs: AES67_MAX_WAIT_MS,
      deferTimeouts: true,
    });
    this.timeBase = null;
    this.arrMin = this.arrPrevMin = Infinity;
    this.arrWindowStart = 0;
    this.sink = sink;
    const now = performance.now();
    this.lastPacketMs = o.streams.map(() => now);
    this.ssrc = o.streams.map(() => null);
    try {
      for (const s of o.streams) {
        this.conns.push(await openMulticastReceiver(s.group, s.port, o.interfaceAddress));
        if (this.generation !== gen) throw new Error("AES67 source stopped while opening");
      }
    } catch (e) {
      this.closeAll();
      throw e;
    }
    this.conns.forEach((c, i) => this.receive(gen, i, c!, listener));
    const stuckMs = o.stuckMs ?? AES67_STUCK_MS;
    let statsAt = performance.now();
    let reported = "";
    this.watch = setInterval(() => {
      const t = performance.now();
      if (t - statsAt >= STATS_EVERY_MS) {
        statsAt = t;
        reported = this.logStats(reported);
      }
      for (let i = 0; i < o.streams.length; i++) {
        const silent = t - this.lastPacketMs[i];
        if (silent >= stuckMs) {
          const s = o.streams[i];
          this.fail(
            gen,
            new Error(
              `AES67 stream "${s.name}" (${s.group}:${s.port}) delivered nothing for ${
                Math.round(silent)
              } ms (sender gone or no multicast route)`,
            ),
            listener,
          );
          return;
        }
      }
    }, WATCH_MS);
    const desc = o.streams.map((s) =>
      `${s.group}:${s.port} ${s.encoding}/${s.sampleRate}/${s.channels}` +
      (s.ptimeMs ? ` ${s.ptimeMs} ms` : "")
    ).join(", ");
    return {
      channels: MAX_CHANNELS,
      sampleRate: o.sampleRate,
      framesPerPeriod: o.framesPerPeriod,
      description: `AES67 "${o.session}": ${total} ch from ${desc}`,
    };
  }

  stop(): Promise<void> {
    if (this.conns.length > 0) this.logStats("");
    this.generation++;
    this.closeAll();
    return Promise.resolve();
  }

  private closeAll(): void {
    clearInterval(this.watch);
    this.watch = undefined;
    clearTimeout(this.overdueTimer);
    this.overdueTimer = undefined;
    for (const c of this.conns) {
      try {
        c?.close();
      } catch { /* already closed */ }
    }
    this.conns = [];
    this.sink = null;
  }

  /** Logs the jitter buffer's counters if they differ from `last` (ignoring packets); returns them. */
  private logStats(last: string): string {
    const st = this.reasm?.stats;
    if (!st) return last;
    const key = `${st.missingFrames} ${st.lateFrames} ${st.realigned} ${st.malformed}`;
    if (key === last) return last;
    this.o.log?.("info", "AES67 input", {
      session: this.o.session,
      packets: st.packets,
      missing_frames: st.missingFrames,
      late_frames: st.lateFrames,
      realigned: st.realigned,
      malformed: st.malformed,
      wait_ms: Math.round(st.waitMs * 10) / 10,
    });
    return key;
  }

  private fail(gen: number, err: Error, listener: SourceListener): void {
    if (this.generation !== gen) return;
    this.generation++;
    this.closeAll();
    this.o.log?.("warn", err.message, { session: this.o.session });
    listener.onFault(err);
  }

  private async receive(
    gen: number,
    i: number,
    conn: Deno.DatagramConn,
    listener: SourceListener,
  ): Promise<void> {
    const spec = this.o.streams[i];
    const buf = new Uint8Array(65536);
    const reasm = this.reasm!;
    while (this.generation === gen) {
      let data: Uint8Array;
      let from: Deno.Addr;
      try {
        [data, from] = await conn.receive(buf);
      } catch (e) {
        if (this.generation === gen) {
          this.fail(gen, new Error(`AES67 receive failed: ${(e as Error).message}`), listener);
        }
        return;
      }
      if (this.generation !== gen) return;
      if (spec.sourceAddress !== null && (from as Deno.NetAddr).hostname !== spec.sourceAddress) {
        continue;
      }
      const n = data.length;
      if (n < RTP_HEADER || data[0] >> 6 !== 2 || (data[1] & 0x7f) !== spec.payloadType) continue;
      let off = RTP_HEADER + (data[0] & 0x0f) * 4;
      if (data[0] & 0x10) {
        if (off + 4 > n) continue;
        off += 4 + ((data[off + 2] << 8) | data[off + 3]) * 4;
      }
      let end = n;
      if (data[0] & 0x20) end -= data[n - 1];
      if (off >= end) continue;
      const ssrc = ((data[8] << 24) | (data[9] << 16) | (data[10] << 8) | data[11]) >>> 0;
      const t = performance.now();
      const locked = this.ssrc[i];
      if (locked !== ssrc) {
        // Another sender on the group is ignored while ours is alive; a restarted one is taken.
        if (locked !== null && t - this.lastPacketMs[i] < 200) continue;
        this.ssrc[i] = ssrc;
      }
      this.lastPacketMs[i] = t;
      const ts = ((data[4] << 24) | (data[5] << 16) | (data[6] << 8) | data[7]) >>> 0;
      const frames = (end - off) / (spec.channels * (spec.encoding === "L24" ? 3 : 2));
      const before = reasm.readFrame;
      const d = reasm.push(i, ts, buf, this.emit, t, off, end);
      if (i === 0 && !Number.isNaN(d)) this.noteArrival(before + d + frames);
      if (this.overdueTimer === undefined && reasm.overdueAt >= 0) this.armOverdue(gen, t);
    }
  }

  /** Arrival of stream 1's data up to frame `end` of this source's timeline. */
  private noteArrival(end: number): void {
    const now = this.o.clock.now();
    const mediaMs = (end * 1000) / this.o.sampleRate;
    const v = now - mediaMs;
    if (now - this.arrWindowStart >= ARRIVAL_WINDOW_MS) {
      this.arrPrevMin = this.arrMin;
      this.arrMin = Infinity;
      this.arrWindowStart = now;
    }
    if (v < this.arrMin) this.arrMin = v;
  }

  /** The media clock's age of position `pos` on `base`, in ms (may be negative). */
  private mediaAge(pos: number, base: "utc" | "tai", now: number): number {
    const rate = this.o.sampleRate;
    const nowMs = base === "tai" ? now + TAI_UTC_S * 1000 : now;
    const nowPos = Math.floor((nowMs * rate) / 1000) % TWO32;
    const age = (nowPos - pos + 2 * TWO32) % TWO32;
    return ((age > TWO32 / 2 ? age - TWO32 : age) * 1000) / rate;
  }

  private deliver(p: Period, mediaPos: number): void {
    const now = this.o.clock.now();
    if (this.timeBase === null) {
      for (const b of ["tai", "utc"] as const) {
        const age = this.mediaAge(mediaPos, b, now);
        if (age >= MEDIA_AGE_MIN_MS && age <= MEDIA_AGE_MAX_MS) this.timeBase = b;
      }
      if (this.timeBase === null) this.timeBase = "arrival";
      this.o.log?.("info", "AES67 input timing", {
        session: this.o.session,
        capture_time_from: this.timeBase === "arrival"
          ? "arrival (the sender's media clock is not ours)"
          : `the media clock (${this.timeBase.toUpperCase()})`,
      });
    }
    if (this.timeBase === "arrival") {
      const est = Math.min(this.arrMin, this.arrPrevMin);
      p.captureTimeMs = Number.isFinite(est)
        ? est + (p.frameIndex * 1000) / this.o.sampleRate
        : now - (p.frames * 1000) / this.o.sampleRate;
    } else {
      p.captureTimeMs = now - this.mediaAge(mediaPos, this.timeBase, now);
    }
    this.sink?.(p);
  }
}
