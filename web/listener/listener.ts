/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The browser listener page (served at `/`; bundled for the browser into
 * web/gen/listener.js by web/build.ts).
 *
 * A musician scans the admin page's QR code, taps Start (the user gesture
 * that unlocks audio, on iOS too), and hears the channels mixed on the phone:
 * per-channel level, pan, mute, solo and a 3-band EQ, a master level and
 * limiter. Settings are the contract's §11 JSON in localStorage, per server.
 *
 * URL overrides (tests, troubleshooting):
 * ?transport=auto|webtransport|datachannel|websocket
 * &playout=auto|worklet|buffer|script&compression=opus|none.
 * On HTTPS (a secure context) "auto" means WebTransport and AudioWorklet;
 * then the datagrams are received and decoded in a Worker that feeds the
 * worklet directly (listener/audio_worker.ts), off this thread.
 */
import {
  type ChannelSettings,
  type ClientSettings,
  loadSettings,
  MemoryStorage,
  reconcileChannels,
  saveSettings,
} from "../../src/client/settings.ts";
import { parseJitterThresholds, qosReport } from "../../src/client/api.ts";
import { DEFAULT_JITTER_THRESHOLDS, type JitterThresholds } from "../../src/client/api.ts";
import {
  type Compression,
  isSessionEndingEvent,
  type ServerEvent,
} from "../../src/client/messages.ts";
import {
  type ConnState,
  type ListenerAck,
  ListenerConnection,
  TRANSPORT_CHOICES,
  type TransportChoice,
} from "./connection.ts";
import { Playout, type PlayoutMode } from "./playout.ts";
import { workletAvailable, WorkletPlayout } from "./worklet_playout.ts";
import { PageReceiver, type ReceiveStats } from "./page_receiver.ts";
import { AudioWorkerLink } from "./audio_link.ts";
import { channelStrip, masterStrip, type StripView } from "./strips.ts";

const QOS_INTERVAL_MS = 5000;
const STATUS_INTERVAL_MS = 500;
const SAVE_DELAY_MS = 300;
/** Mixer reconfiguration restarts its filters: at most this often while a fader moves. */
const MIX_UPDATE_MS = 40;
const PREFS_PREFIX = "m32-listener-prefs:";

/** "auto": the AudioWorklet where the page may use it (HTTPS), else scheduled buffers. */
type PlayoutChoice = "auto" | "worklet" | PlayoutMode;
const PLAYOUT_CHOICES: readonly PlayoutChoice[] = ["auto", "worklet", "buffer", "script"];

interface Prefs {
  transport: TransportChoice;
  playout: PlayoutChoice;
}

interface MetaChannel {
  id: number;
  name: string;
  order: number;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const wallNow = () => performance.timeOrigin + performance.now();
const server = location.host;
const params = new URLSearchParams(location.search);

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

function loadPrefs(): Prefs {
  const prefs: Prefs = { transport: "auto", playout: "auto" };
  try {
    const raw = JSON.parse(storage()?.getItem(PREFS_PREFIX + server) ?? "{}");
    if (TRANSPORT_CHOICES.includes(raw.transport)) prefs.transport = raw.transport;
    if (PLAYOUT_CHOICES.includes(raw.playout)) prefs.playout = raw.playout;
  } catch { /* defaults */ }
  const t = params.get("transport") as TransportChoice | null;
  if (t && TRANSPORT_CHOICES.includes(t)) prefs.transport = t;
  const p = params.get("playout") as PlayoutChoice | null;
  if (p && PLAYOUT_CHOICES.includes(p)) prefs.playout = p;
  return prefs;
}

class ListenerApp {
  private settings: ClientSettings;
  private prefs = loadPrefs();
  private playout: Playout | WorkletPlayout | null = null;
  private receiver: PageReceiver | null = null;
  /** The audio worker (WebTransport + AudioWorklet), or null. */
  private audioWorker: AudioWorkerLink | null = null;
  private conn: ListenerConnection;
  private strips = new Map<number, StripView>();
  private stripIds = "";
  private active: ChannelSettings[] = [];
  private ack: ListenerAck | null = null;
  private thresholds: JitterThresholds = { ...DEFAULT_JITTER_THRESHOLDS };
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private mixTimer: ReturnType<typeof setTimeout> | undefined;
  private offersOpus = true;
  private message = "";

  constructor() {
    const store = storage();
    this.settings = store ? loadSettings(store, server) : loadSettings(new MemoryStorage(), server);
    if (store && store.getItem(`m32-client-settings:${server}`) === null) {
      this.settings.compression = "opus"; // the page's default: a phone on Wi-Fi wants Opus
    }
    const c = params.get("compression");
    if (c === "opus" || c === "none") this.settings.compression = c;
    this.conn = new ListenerConnection(new URL(location.href), this.prefs.transport, {
      prepare: () => this.prepare(),
      onState: (s, d) => this.onState(s, d),
      onWelcome: () => {},
      onAck: (ack) => this.onAck(ack),
      onPacket: (bytes, at) => this.receiver?.onPacket(bytes, at),
      onEvent: (ev) => this.onEvent(ev),
      onClockOffset: (ms) => this.audioWorker?.setOffset(ms),
      openWebTransport: (url, hash) =>
        this.workerPlayout() ? this.audioWorker!.open(url, hash) : null,
    }, wallNow);
    this.bindControls();
    addEventListener("pagehide", () => this.save());
  }

  // ---- start (the user gesture) ---------------------------------------------

  private start(): void {
    // iOS: play even with the ring/silent switch on.
    const nav = navigator as Navigator & { audioSession?: { type: string } };
    if (nav.audioSession) nav.audioSession.type = "playback";
    const choice = this.prefs.playout;
    const worklet = (choice === "auto" || choice === "worklet") && workletAvailable();
    if (worklet && ListenerConnection.webTransportPossible() && typeof Worker !== "undefined") {
      try {
        this.audioWorker = new AudioWorkerLink(wallNow());
      } catch { /* no worker: the main thread receives, as on the other transports */ }
    }
    this.startPlayout(worklet ? "worklet" : choice === "script" ? "script" : "buffer");
    $("start-view").hidden = true;
    $("mixer-view").hidden = false;
    this.conn.start();
    setInterval(() => this.renderStatus(), STATUS_INTERVAL_MS);
    setInterval(() => void this.reportQos(), QOS_INTERVAL_MS);
    requestAnimationFrame(this.drawMeters);
  }

  private startPlayout(mode: PlayoutMode | "worklet"): void {
    const clock = () => ({
      offsetMs: this.conn.clock.offsetMs,
      // Packets from the audio worker carry its receiver's figure.
      newestCaptureEndMs: this.viaWorker() ? NaN : this.receiver?.newestCaptureEndMs ?? NaN,
    });
    this.playout?.close();
    this.receiver?.close();
    const playout = mode === "worklet"
      ? new WorkletPlayout(this.thresholds, clock, wallNow)
      : new Playout(this.thresholds, mode, clock, wallNow);
    this.playout = playout;
    void playout.ctx.resume();
    playout.ctx.onstatechange = () => this.renderAudioState();
    this.receiver = new PageReceiver(playout.jb, wallNow(), () => this.conn.clock.offsetMs);
    if (this.ack) this.onAck(this.ack);
    if (playout instanceof WorkletPlayout) {
      playout.ready.then(() => {
        if (this.playout !== playout || !this.audioWorker) return;
        const channel = new MessageChannel();
        playout.attachPort(channel.port1);
        this.audioWorker.attachWorklet(channel.port2);
      }, () => {
        // A browser that refuses the module plays through scheduled buffers instead,
        // receiving here (closing the worker ends its session: the page reconnects).
        if (this.playout !== playout) return;
        this.audioWorker?.close();
        this.audioWorker = null;
        this.startPlayout("buffer");
      });
    }
  }

  /** Whether a WebTransport session would be (is) received in the audio worker. */
  private workerPlayout(): boolean {
    return this.audioWorker?.alive === true && this.playout instanceof WorkletPlayout;
  }

  /** Whether this stream's audio path runs in the audio worker. */
  private viaWorker(): boolean {
    return this.conn.transport === "webtransport" && this.workerPlayout();
  }

  private renderAudioState(): void {
    const ctx = this.playout?.ctx;
    const stalled = ctx !== undefined && ctx.state !== "running";
    $("resume").hidden = !stalled;
  }

  // ---- session -------------------------------------------------------------

  private async prepare() {
    const [meta, jitter] = await Promise.all([
      fetch("/audio-meta", { cache: "no-store" }).then((r) => {
        if (!r.ok) throw new Error(`/audio-meta answered ${r.status}`);
        return r.json();
      }),
      fetch("/jitter-thresholds", { cache: "no-store" }).then((r) => r.json()).catch(() => null),
    ]);
    if (jitter) {
      try {
        this.thresholds = parseJitterThresholds(jitter);
        if (this.playout) this.playout.jb.thresholds = this.thresholds;
      } catch { /* keep the defaults */ }
    }
    const channels = meta.channels as MetaChannel[];
    this.offersOpus = Array.isArray(meta.compressions) && meta.compressions.includes("opus");
    // Names follow the console (the page has no rename; the admin names channels).
    for (const m of channels) {
      const s = this.settings.channels.find((c) => c.id === m.id);
      if (s) s.name = m.name;
    }
    this.active = reconcileChannels(this.settings, channels);
    this.renderStrips();
    this.save();
    const compression: Compression = this.settings.compression === "opus" && this.offersOpus
      ? "opus"
      : "none";
    return {
      channels: this.active.map((c) => ({ ...c })),
      sample_rate: this.settings.sample_rate ?? meta.sample_rate,
      compression,
    };
  }

  private onAck(ack: ListenerAck): void {
    this.ack = ack;
    this.message = "";
    if (this.viaWorker()) this.audioWorker!.configure(ack);
    else void this.receiver?.configure(ack);
    this.playout?.setStream(ack.channels, ack.sample_rate);
    this.updateMix();
  }

  private onEvent(ev: ServerEvent): void {
    if (ev.type === "custom_message" && typeof ev.text === "string") {
      this.showBanner(ev.text, "info");
    } else if (isSessionEndingEvent(ev.type)) {
      this.message = ev.type === "server_shutdown"
        ? "The server is restarting…"
        : ev.type === "config_changed" && ev.scope === "client"
        ? `Your Wi-Fi is struggling — switching to a lighter stream (${
          Number(ev.new_sample_rate) / 1000
        } kHz)…`
        : ev.type === "config_changed"
        ? "The sound engineer changed the setup — reconnecting…"
        : "Reconnecting…";
    } else if (ev.type === "network_warning") {
      this.showBanner(String(ev.reason ?? "network warning"), "warn");
    }
  }

  private onState(state: ConnState, detail: string): void {
    const badge = $("conn-state");
    badge.dataset.state = state;
    const text: Record<ConnState, string> = {
      idle: "Ready",
      connecting: "Connecting…",
      streaming: "Live",
      reconnecting: "Reconnecting…",
      stopped: "Stopped",
    };
    badge.textContent = text[state];
    if (state === "reconnecting") {
      this.showBanner(this.message || `Connection lost: ${detail}`, "warn");
    } else if (state === "streaming") $("banner").hidden = true;
  }

  private showBanner(text: string, kind: "info" | "warn"): void {
    const b = $("banner");
    b.textContent = text;
    b.dataset.kind = kind;
    b.hidden = false;
  }

  // ---- mix -----------------------------------------------------------------

  private renderStrips(): void {
    const ids = this.active.map((c) => `${c.id}:${c.name}`).join(",");
    if (ids === this.stripIds) return;
    this.stripIds = ids;
    const box = $("strips");
    box.replaceChildren();
    this.strips.clear();
    const byOrder = [...this.active].sort((a, b) => a.order - b.order);
    for (const ch of byOrder) {
      if (ch.hidden) continue;
      const view = channelStrip(ch, () => this.changed());
      this.strips.set(ch.id, view);
      box.append(view.root);
    }
    $("master").replaceChildren(masterStrip(this.settings, () => this.changed()));
    $("empty").hidden = this.active.length > 0;
  }

  private changed(): void {
    this.scheduleMix();
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.save(), SAVE_DELAY_MS);
    const anySolo = this.active.some((c) => c.solo && !c.mute);
    document.body.classList.toggle("solo-active", anySolo);
  }

  private scheduleMix(): void {
    if (this.mixTimer) return;
    this.mixTimer = setTimeout(() => {
      this.mixTimer = undefined;
      this.updateMix();
    }, MIX_UPDATE_MS);
  }

  private updateMix(): void {
    const byId = new Map(this.settings.channels.map((c) => [c.id, c]));
    this.playout?.configureMix((id) => byId.get(id), this.settings.master);
    document.body.classList.toggle("solo-active", this.active.some((c) => c.solo && !c.mute));
  }

  private save(): void {
    const store = storage();
    if (!store) return;
    try {
      saveSettings(store, this.settings);
      store.setItem(PREFS_PREFIX + server, JSON.stringify(this.prefs));
    } catch { /* storage full or denied: settings live for this page only */ }
  }

  // ---- status --------------------------------------------------------------

  private readonly drawMeters = () => {
    const p = this.playout;
    if (p && this.ack) {
      this.ack.channels.forEach((id, i) => {
        const v = this.strips.get(id);
        if (!v) return;
        const level = p.levels[i] ?? 0;
        const db = level > 0 ? 20 * Math.log10(level) : -120;
        const frac = Math.max(0, Math.min(1, (db + 60) / 60));
        v.meter.style.transform = `scaleX(${frac.toFixed(3)})`;
        v.meter.dataset.hot = String(db > -3);
      });
    }
    requestAnimationFrame(this.drawMeters);
  };

  /** The receive statistics: the audio worker's (WebTransport + worklet), else this thread's. */
  private receiveStats(): ReceiveStats | null {
    if (this.viaWorker()) return this.audioWorker!.stats;
    return this.receiver?.stats() ?? null;
  }

  private metrics() {
    const s = this.receiveStats();
    const lat = this.playout?.latencies ?? [];
    return {
      packets_received: s?.received ?? 0,
      packets_expected: s?.expected ?? 0,
      packet_loss_rate: s?.lossRate ?? 0,
      jitter_ms: s?.jitterMs ?? 0,
      latency_ms: s?.latencyMs ?? NaN,
      playout_latency_ms: lat.length ? median(lat) : NaN,
    };
  }

  private renderStatus(): void {
    if (!this.receiver) return;
    const m = this.metrics();
    const fmt = (v: number, unit: string, digits = 1) =>
      Number.isFinite(v) ? `${v.toFixed(digits)} ${unit}` : "–";
    $("q-loss").textContent = fmt(m.packet_loss_rate * 100, "%", 2);
    $("q-jitter").textContent = fmt(m.jitter_ms, "ms");
    $("q-latency").textContent = fmt(m.playout_latency_ms, "ms", 0);
    const t = this.conn.transport;
    $("q-transport").textContent = t === "webtransport"
      ? "WebTransport"
      : t === "datachannel"
      ? "WebRTC"
      : t === "websocket"
      ? "WebSocket"
      : "–";
    const codec = this.ack
      ? this.ack.encoding === "opus"
        ? `Opus ${this.ack.sample_rate / 1000} kHz`
        : `${this.ack.encoding} ${this.ack.sample_rate / 1000} kHz`
      : "–";
    $("q-codec").textContent = codec;
    const good = m.packet_loss_rate < 0.01 && (m.playout_latency_ms || 0) < 80;
    $("quality").dataset.level = this.conn.state !== "streaming" ? "off" : good ? "good" : "fair";
  }

  private async reportQos(): Promise<void> {
    if (!this.receiver || !this.conn.clientId || this.conn.state !== "streaming") return;
    const m = this.metrics();
    const body = qosReport(this.conn.clientId, Date.now(), {
      packets_received: m.packets_received,
      packets_expected: m.packets_expected,
      packet_loss_rate: m.packet_loss_rate,
      jitter_ms: m.jitter_ms,
      latency_ms: m.latency_ms, // the contract's network latency (§8), not playout
      bandwidth_mbps: this.viaWorker()
        ? this.audioWorker!.bandwidth.take(wallNow())
        : this.receiver.rtp.bandwidth.take(wallNow()),
    });
    try {
      await fetch("/qos-metrics", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch { /* the connection handles outages */ }
  }

  // ---- controls ------------------------------------------------------------

  private bindControls(): void {
    $("start").addEventListener("click", () => this.start(), { once: true });
    $("resume").addEventListener("click", () => void this.playout?.ctx.resume());
    // iOS ends audio on an interruption (a call, Siri): any tap resumes it.
    addEventListener("pointerdown", () => {
      const ctx = this.playout?.ctx;
      if (ctx && ctx.state !== "running") void ctx.resume();
    });
    const compression = $<HTMLSelectElement>("opt-compression");
    compression.value = this.settings.compression;
    compression.addEventListener("change", () => {
      this.settings.compression = compression.value as Compression;
      this.save();
      void this.reconfigure();
    });
    const transport = $<HTMLSelectElement>("opt-transport");
    transport.value = this.prefs.transport;
    transport.addEventListener("change", () => {
      this.prefs.transport = transport.value as TransportChoice;
      this.save();
      this.conn.setChoice(this.prefs.transport);
    });
    const playout = $<HTMLSelectElement>("opt-playout");
    playout.value = this.prefs.playout;
    playout.addEventListener("change", () => {
      this.prefs.playout = playout.value as PlayoutChoice;
      this.save();
      location.reload();
    });
    $("opt-reset").addEventListener("click", () => {
      for (const c of this.settings.channels) {
        Object.assign(c, { mute: false, solo: false, volume: 1, pan: 0 });
        c.eq = { low: 0, mid: 0, high: 0 };
      }
      this.settings.master = { volume: 1, limit: true };
      this.stripIds = "";
      this.renderStrips();
      this.changed();
    });
  }

  private async reconfigure(): Promise<void> {
    try {
      this.conn.sendConfig(await this.prepare());
    } catch { /* the connection will reconnect */ }
  }

  /** What the browser test reads (window.__m32). */
  testHook() {
    return {
      magnitudes: (freqs: number[]) =>
        this.playout?.magnitudesAt(freqs) ?? freqs.map(() => -Infinity),
      status: () => ({
        state: this.conn.state,
        transport: this.conn.transport,
        reconnects: this.conn.reconnects,
        clientId: this.conn.clientId,
        ack: this.ack,
        audio: this.playout?.ctx.state ?? "none",
        playout: this.playout?.mode ?? null,
        leadMs: this.playout?.leadMs ?? null,
        underruns: this.playout?.underruns ?? 0,
        jb: this.playout
          ? {
            delayMs: this.playout.jb.delayMs,
            jitterMs: this.playout.jb.jitterMs,
            concealed: this.playout.jb.concealedPackets,
            dropped: this.playout.jb.droppedPackets,
            skipped: this.playout.jb.skippedFrames,
            repeated: this.playout.jb.repeatedFrames,
            resyncs: this.playout.jb.resyncs,
          }
          : null,
        clockSynced: this.conn.clock.synced,
        decodeErrors: this.receiveStats()?.decodeErrors ?? 0,
        /** Opus group packets concealed by their decoder, and dropped as late. */
        concealedGroups: this.receiveStats()?.concealedGroups ?? 0,
        lateGroups: this.receiveStats()?.lateGroups ?? 0,
        /** Where datagrams are received and decoded: "worker" (WebTransport + worklet) or "main". */
        audioPath: this.viaWorker() ? "worker" : "main",
        ...(this.receiver ? this.metrics() : {}),
      }),
      latencies: () => [...(this.playout?.latencies ?? [])],
      networkLatency: () => this.receiveStats()?.latencyMs ?? NaN,
    };
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const app = new ListenerApp();
(globalThis as unknown as { __m32: unknown }).__m32 = app.testHook();
