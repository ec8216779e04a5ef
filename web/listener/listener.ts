/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The browser listener page (served at `/`; bundled for the browser into
 * web/gen/listener.js by web/build.ts).
 *
 * A musician scans the admin page's QR code, taps Start (the user gesture
 * that unlocks audio, on iOS too), and hears the channels mixed on the phone:
 * per-channel level, pan, mute, solo and a 3-band EQ, a master level,
 * limiter, post-mix meter and clip indicator, and a one-tap lock that leaves
 * only the mutes and the master level usable. Settings (the lock with them)
 * are the contract's §11 JSON in localStorage, per server.
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
  followEngineer,
  loadSettings,
  MemoryStorage,
  reconcileChannels,
  saveSettings,
  settingsKey,
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
import { AudioKeeper } from "./keep_alive.ts";
import { MixesPanel } from "./mixes_panel.ts";
import { fetchIdentity, fetchMixFromOtherOrigin, takeHandedMix } from "./box_identity.ts";
import { presetsKey } from "../../src/client/mixes.ts";
import { ReceivePanel } from "./receive_panel.ts";
import { StripFilter } from "./strip_filter.ts";
import { StripEditor } from "./strip_editor.ts";
import { MixShare, takeMixFromAddress } from "./mix_share.ts";
import { mixChannels } from "../../src/client/mixer.ts";
import {
  BACKGROUND_MODES,
  type BackgroundMode,
  BackgroundRoute,
  needsElementInBackground,
} from "./background_route.ts";
import { applyLock, channelStrip, masterStrip, type MasterView, type StripView } from "./strips.ts";
import { ClipIndicator } from "./clip_indicator.ts";
import { language, type MessageKey, onLanguageChange, t } from "../i18n/i18n.ts";
import { localText, startI18n } from "../i18n/dom.ts";
import { errorText } from "../i18n/errors.ts";
import { networkWarning } from "./network_warning.ts";
import { NetworkHealth } from "./network_health.ts";

/** The badge's words for each connection state. */
const STATE_TEXT: Record<ConnState, MessageKey> = {
  idle: "l_state_idle",
  connecting: "l_state_connecting",
  waiting: "l_state_waiting",
  streaming: "l_state_streaming",
  stalled: "l_state_stalled",
  reconnecting: "l_state_reconnecting",
  searching: "l_state_searching",
  stopped: "l_state_stopped",
};

const QOS_INTERVAL_MS = 5000;
const STATUS_INTERVAL_MS = 500;
/** Before Start: how often to look for a box that does not answer, and how long to wait for it. */
const BOX_LOOK_MS = 1000;
const BOX_PROBE_TIMEOUT_MS = 2000;
const SAVE_DELAY_MS = 300;
/** Mixer reconfiguration restarts its filters: at most this often while a fader moves. */
const MIX_UPDATE_MS = 40;
const PREFS_PREFIX = "m32-listener-prefs:";
/** Meters show −60 … 0 dBFS; above HOT_DB they turn hot. */
const METER_FLOOR_DB = -60;
const HOT_DB = -3;
/**
 * Meter frames per second. The levels are peaks held and decayed per audio block
 * (playout.ts), so a slower frame rate loses no peak; on the plain-http page the same main thread
 * schedules the audio, and each frame is time taken from it.
 */
const METER_FPS = 25;
/** A frame may come this much early (ms) and still draw: animation frames jitter. */
const METER_FRAME_SLACK_MS = 2;

/** "auto": the AudioWorklet where the page may use it (HTTPS), else scheduled buffers. */
type PlayoutChoice = "auto" | "worklet" | PlayoutMode;
const PLAYOUT_CHOICES: readonly PlayoutChoice[] = ["auto", "worklet", "buffer", "script"];

interface Prefs {
  transport: TransportChoice;
  playout: PlayoutChoice;
  /** Screen Wake Lock while listening (HTTPS). */
  wakeLock: boolean;
  /** How the mix keeps playing while the page is hidden (./background_route.ts). */
  background: BackgroundMode;
  /** Strips one line high (./strip_filter.ts). */
  compact: boolean;
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
  const prefs: Prefs = {
    transport: "auto",
    playout: "auto",
    wakeLock: false,
    background: "auto",
    compact: false,
  };
  try {
    const raw = JSON.parse(storage()?.getItem(PREFS_PREFIX + server) ?? "{}");
    if (TRANSPORT_CHOICES.includes(raw.transport)) prefs.transport = raw.transport;
    if (PLAYOUT_CHOICES.includes(raw.playout)) prefs.playout = raw.playout;
    if (typeof raw.wakeLock === "boolean") prefs.wakeLock = raw.wakeLock;
    if (typeof raw.compact === "boolean") prefs.compact = raw.compact;
    if (BACKGROUND_MODES.includes(raw.background)) prefs.background = raw.background;
  } catch { /* defaults */ }
  const b = params.get("background") as BackgroundMode | null;
  if (b && BACKGROUND_MODES.includes(b)) prefs.background = b;
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
  private masterView: MasterView | null = null;
  private readonly clip = new ClipIndicator();
  /** Whether the Wi-Fi is the problem (./network_health.ts), and whether its banner is up. */
  private readonly health = new NetworkHealth();
  private wifiBanner = false;
  private stripIds = "";
  private active: ChannelSettings[] = [];
  /** The engineer's channel list as last sent (names and send order; ./strip_editor.ts). */
  private engineerList: MetaChannel[] = [];
  private ack: ListenerAck | null = null;
  private thresholds: JitterThresholds = { ...DEFAULT_JITTER_THRESHOLDS };
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private mixTimer: ReturnType<typeof setTimeout> | undefined;
  private offersOpus = true;
  /** The channel set of the last client_config (./receive_panel.ts changes it). */
  private sentSet = "";
  /** Why the session ended, as the server said (in the page's language), or null. */
  private message: (() => string) | null = null;
  /** The musician pressed Start and has not paused (Media Session). */
  private listening = false;
  private playoutMode: PlayoutMode | "worklet" = "buffer";
  private route: BackgroundRoute | null = null;
  private readonly stripFilter = new StripFilter({
    strips: () =>
      [...this.strips].map(([id, v]) => ({
        id,
        name: this.active.find((c) => c.id === id)?.name ?? "",
        root: v.root,
      })),
    compact: () => this.prefs.compact,
    setCompact: (on) => {
      this.prefs.compact = on;
      this.save();
    },
  });
  private readonly receivePanel = new ReceivePanel({
    channels: () => this.active,
    changed: () => {
      this.save();
      this.renderStrips();
      void this.reconfigure();
    },
  });
  private readonly mixes = new MixesPanel({
    settings: () => this.settings,
    storage,
    server: () => this.settings.server,
    applied: () => {
      this.stripIds = ""; // every strip shows the loaded values
      followEngineer(this.active, this.engineerList); // names and order the mix does not set
      if (!this.active.some((c) => c.receive)) this.active.forEach((c) => (c.receive = true));
      this.renderStrips();
      this.receivePanel.render();
      this.changed();
      this.save();
      // A mix may receive other channels: ask for them (a new stream only if the set changed).
      if (this.received() !== this.sentSet) void this.reconfigure();
    },
  });
  private readonly editor = new StripEditor({
    settings: () => this.settings,
    active: () => this.active,
    engineer: () => this.engineerList,
    changed: () => {
      this.stripIds = "";
      this.renderStrips();
      this.receivePanel.render();
      this.changed();
      // Linking may receive the pair's second channel: ask for it.
      if (this.received() !== this.sentSet) void this.reconfigure();
    },
    mixChanged: () => this.changed(),
  });
  private readonly share = new MixShare({
    settings: () => this.settings,
    mixName: () => $<HTMLInputElement>("mix-name").value,
    adopt: (mix) => this.mixes.adopt(mix),
  });
  private readonly keeper = new AudioKeeper({
    ctx: () => this.playout?.ctx ?? null,
    wanted: () => this.listening,
    nudge: (why) => this.conn.nudge(why),
    rebuildOutput: (why) => {
      this.note(why);
      this.startPlayout(this.playoutMode);
    },
    visibility: (hidden) => this.route?.set(hidden),
    wakeLockWanted: () => this.prefs.wakeLock,
    note: (e) => this.note(e),
  });
  /** The connection's last states and why (the test hook's; newest last). */
  private readonly stateLog: { state: ConnState; detail: string; atMs: number }[] = [];

  constructor() {
    startI18n($<HTMLSelectElement>("start-language"), $<HTMLSelectElement>("opt-language"));
    takeMixFromAddress(); // a shared mix's link: offered once the box's mix is known
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
    // Start waits (a second or two at most) until the page knows whose mix to play.
    const startButton = $<HTMLButtonElement>("start");
    startButton.disabled = true;
    void this.adoptBoxIdentity().finally(() => {
      startButton.disabled = false;
      void this.share.offerPending();
    });
    this.mixes.bind();
    this.share.bind();
    this.editor.bind();
    this.receivePanel.bind();
    this.stripFilter.bind();
    $("msg-dismiss").addEventListener("click", () => ($("message-bar").hidden = true));
    onLanguageChange(() => this.relabel());
    void this.lookForBox();
  }

  /** Another language: every string the page computed is written again (the mix plays on). */
  private relabel(): void {
    this.stripIds = "";
    this.renderStrips();
    this.receivePanel.render();
    this.mixes.render();
    if (this.listening) this.setMediaMetadata();
  }

  /**
   * Opened from the home screen while the box is unreachable (the page came
   * from the service worker's copy): say so, and when, until it answers.
   */
  private async lookForBox(): Promise<void> {
    for (let away = false; this.conn.state === "idle";) {
      try {
        const r = await fetch("/health", {
          cache: "no-store",
          signal: AbortSignal.timeout(BOX_PROBE_TIMEOUT_MS),
        });
        await r.body?.cancel();
        if (away && this.conn.state === "idle") this.onState("idle", "the box answers");
        return;
      } catch {
        if (this.conn.state !== "idle") return;
        if (!away) this.onState("searching", "the box does not answer");
        away = true;
        await new Promise((r) => setTimeout(r, BOX_LOOK_MS));
      }
    }
  }

  /**
   * One mix per box (./box_identity.ts): from now on the mix is kept under the
   * box's id; this origin's older mix (kept under its host) moves there; with
   * none here, a mix handed over from another origin of the box is taken, or
   * looked for there.
   */
  private async adoptBoxIdentity(): Promise<void> {
    const handed = takeHandedMix();
    const store = storage();
    const id = await fetchIdentity();
    if (!id || !store) return;
    const key = `box:${id.box_id}`;
    if (store.getItem(settingsKey(key)) === null) {
      if (handed && handed !== "none" && handed.settings) {
        store.setItem(
          settingsKey(key),
          JSON.stringify({ ...handed.settings as object, server: key }),
        );
        if (Array.isArray(handed.presets)) {
          store.setItem(presetsKey(key), JSON.stringify(handed.presets));
        }
        this.note("mix brought over from another address of the box");
      } else if (store.getItem(settingsKey(server)) !== null) {
        store.setItem(settingsKey(key), store.getItem(settingsKey(server))!);
        const presets = store.getItem(presetsKey(server));
        if (presets !== null) store.setItem(presetsKey(key), presets);
      } else if (handed === null && await fetchMixFromOtherOrigin(id)) {
        return; // leaving for the other origin's handoff page; back with the mix
      }
    }
    const loaded = loadSettings(store, key);
    if (store.getItem(settingsKey(key)) === null) loaded.compression = this.settings.compression;
    const c = params.get("compression");
    if (c === "opus" || c === "none") loaded.compression = c;
    this.settings = loaded;
    this.mixes.render(); // the box's saved mixes
    if (this.active.length > 0) {
      // Already listening (a fast tap): the strips show the box's mix from now on.
      this.active = reconcileChannels(this.settings, this.active);
      this.stripIds = "";
      this.renderStrips();
      this.changed();
    }
    this.save();
  }

  /** The ids this phone receives, as a key. */
  private received(): string {
    return this.active.filter((c) => c.receive).map((c) => c.id).join(",");
  }

  /** A line in the state log (what the connection and the keeper did, for the test hook). */
  private note(event: string): void {
    this.stateLog.push({ state: this.conn.state, detail: event, atMs: Date.now() });
    if (this.stateLog.length > STATE_LOG) this.stateLog.shift();
  }

  /**
   * The lock screen's and headset's play/pause (Media Session): pause stops
   * the audio on purpose (nothing resumes it by itself); play resumes it.
   */
  private setUpMediaSession(): void {
    const ms = navigator.mediaSession;
    if (!ms) return;
    try {
      this.setMediaMetadata();
      ms.setActionHandler("play", () => {
        this.listening = true;
        ms.playbackState = "playing";
        void this.playout?.ctx.resume();
        this.note("play (media controls)");
      });
      ms.setActionHandler("pause", () => {
        this.listening = false;
        ms.playbackState = "paused";
        void this.playout?.ctx.suspend();
        this.note("pause (media controls)");
      });
      ms.playbackState = "playing";
    } catch { /* an older browser without some of it */ }
  }

  private setMediaMetadata(): void {
    try {
      navigator.mediaSession.metadata = new MediaMetadata({
        title: t("l_media_title"),
        artist: `M32 · ${location.hostname}`,
        artwork: [
          { src: "/listener/icon-192.png", sizes: "192x192", type: "image/png" },
          { src: "/listener/icon-512.png", sizes: "512x512", type: "image/png" },
        ],
      });
    } catch { /* no Media Session metadata here */ }
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
        this.audioWorker = new AudioWorkerLink(wallNow(), () => this.conn.audioArrived());
      } catch { /* no worker: the main thread receives, as on the other transports */ }
    }
    this.listening = true;
    this.startPlayout(worklet ? "worklet" : choice === "script" ? "script" : "buffer");
    this.keeper.start();
    this.setUpMediaSession();
    $("start-view").hidden = true;
    $("mixer-view").hidden = false;
    $("lock").hidden = false;
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
    this.playoutMode = mode;
    this.route?.close();
    this.route = null;
    this.playout?.close();
    this.receiver?.close();
    const playout = mode === "worklet"
      ? new WorkletPlayout(this.thresholds, clock, wallNow)
      : new Playout(this.thresholds, mode, clock, wallNow);
    this.playout = playout;
    if (this.listening) void playout.ctx.resume();
    playout.ctx.onstatechange = () => this.renderAudioState();
    this.keeper.watch(playout.ctx);
    const bg = this.prefs.background;
    if (bg === "element" || (bg === "auto" && needsElementInBackground())) {
      this.route = new BackgroundRoute(playout.ctx, playout.analyser.node);
      this.route.set(document.visibilityState === "hidden");
    }
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
    this.engineerList = channels;
    this.active = reconcileChannels(this.settings, channels);
    // Names and order follow the console, where the musician has not set their own.
    followEngineer(this.active, channels);
    this.renderStrips();
    this.save();
    const compression: Compression = this.settings.compression === "opus" && this.offersOpus
      ? "opus"
      : "none";
    if (!this.active.some((c) => c.receive)) this.active.forEach((c) => (c.receive = true));
    this.receivePanel.render();
    this.sentSet = this.received();
    return {
      // Only the channels this phone receives (never none: an empty list means all).
      channels: this.active.filter((c) => c.receive).map((c) => ({ ...c })),
      sample_rate: this.settings.sample_rate ?? meta.sample_rate,
      compression,
    };
  }

  private onAck(ack: ListenerAck): void {
    this.ack = ack;
    this.message = null;
    if (this.viaWorker()) this.audioWorker!.configure(ack);
    else void this.receiver?.configure(ack);
    this.playout?.setStream(ack.channels, ack.sample_rate);
    this.updateMix();
  }

  private onEvent(ev: ServerEvent): void {
    if (ev.type === "custom_message" && typeof ev.text === "string") {
      this.showMessage(ev.text, new Date());
    } else if (isSessionEndingEvent(ev.type)) {
      const khz = Number(ev.new_sample_rate) / 1000;
      this.message = ev.type === "server_shutdown"
        ? () => t("l_banner_restarting")
        : ev.type === "config_changed" && ev.scope === "client"
        ? () => t("l_banner_lighter", { khz })
        : ev.type === "config_changed"
        ? () => t("l_banner_config")
        : () => t("l_state_reconnecting");
    } else if (ev.type === "channels_changed" && Array.isArray(ev.channels)) {
      this.applyChannelList(ev.channels as MetaChannel[]);
    } else if (ev.type === "network_warning") {
      this.showBanner(() => networkWarning(ev), "warn");
    }
  }

  /**
   * The engineer's channel list changed (an event, at once on every phone):
   * new names everywhere, and the engineer's order for the strips. A channel
   * mapped or unmapped also ends the session (config_changed), and the
   * reconnect brings the new set; until then the strips keep theirs.
   */
  private applyChannelList(list: MetaChannel[]): void {
    // The musician's own names and order stay (settings.ts followEngineer).
    followEngineer(this.settings.channels, list.filter((m) => typeof m.name === "string"));
    const pos = new Map(list.map((m, i) => [m.id, i]));
    if (this.active.length === list.length && this.active.every((c) => pos.has(c.id))) {
      this.active.sort((a, b) => pos.get(a.id)! - pos.get(b.id)!);
      this.engineerList = list;
    }
    this.renderStrips();
    this.receivePanel.render();
    this.save();
  }

  private onState(state: ConnState, detail: string, code?: string): void {
    this.stateLog.push({ state, detail, atMs: Date.now() });
    if (this.stateLog.length > STATE_LOG) this.stateLog.shift();
    const badge = $("conn-state");
    badge.dataset.state = state;
    localText(badge, () => t(STATE_TEXT[state]));
    if (state === "searching") {
      this.showBanner(this.message ?? (() => t("l_banner_searching")), "warn");
    } else if (state === "reconnecting") {
      // The details (which transport failed how) are the state log's; the musician hears why.
      this.showBanner(
        this.message ??
          (code === "server_full"
            ? () => errorText("server_full", detail)
            : () => t("l_banner_lost")),
        "warn",
      );
    } else if (state === "stalled") {
      this.showBanner(() => t("l_banner_stalled"), "warn");
    } else if (state === "streaming" || state === "idle") $("banner").hidden = true;
    this.wifiBanner = false;
    this.renderNetwork();
  }

  /** Says when the Wi-Fi is the problem: over a live stream, and instead of a bare "No audio". */
  private renderNetwork(): void {
    if (this.health.state !== "unstable") {
      if (this.wifiBanner) $("banner").hidden = true;
      this.wifiBanner = false;
      return;
    }
    const st = this.conn.state;
    if (st !== "streaming" && st !== "stalled") return;
    if (st === "stalled") localText($("conn-state"), () => t("wifi_badge"));
    this.showBanner(() => t(st === "stalled" ? "wifi_stalled" : "wifi_unstable"), "warn");
    this.wifiBanner = true;
  }

  /** The engineer's message: stays (in the sticky header) until the musician dismisses it. */
  private showMessage(text: string, at: Date): void {
    const time = $("msg-time");
    localText(
      time,
      () => at.toLocaleTimeString(language(), { hour: "2-digit", minute: "2-digit" }),
    );
    time.setAttribute("datetime", at.toISOString());
    $("msg-text").textContent = text;
    $("message-bar").hidden = false;
  }

  private showBanner(text: () => string, kind: "info" | "warn"): void {
    const b = $("banner");
    localText(b, text);
    b.dataset.kind = kind;
    b.hidden = false;
  }

  // ---- mix -----------------------------------------------------------------

  private renderStrips(): void {
    const ids =
      this.active.map((c) =>
        `${c.id}:${c.name}:${c.order}:${c.receive}:${c.hidden}:${c.color}:${c.image?.length}:${c.link?.with}`
      ).join(",") + JSON.stringify(this.settings.groups?.map((g) => [g.id, g.name, g.members]));
    if (ids === this.stripIds) return;
    this.stripIds = ids;
    const box = $("strips");
    box.replaceChildren(...this.editor.groupStrips());
    this.strips.clear();
    const byOrder = [...this.active].sort((a, b) => a.order - b.order);
    const shown = new Set(byOrder.filter((c) => !c.hidden && c.receive).map((c) => c.id));
    // A stereo pair is one strip, its first channel's (hidden with it).
    const seconds = new Set(byOrder.filter((c) => c.link && c.receive).map((c) => c.link!.with));
    for (const ch of byOrder) {
      if (!shown.has(ch.id) || seconds.has(ch.id)) continue;
      const partner = ch.link ? this.active.find((c) => c.id === ch.link!.with) : undefined;
      const view = channelStrip(ch, () => this.changed(), {
        edit: () => this.editor.openChannel(ch.id),
        partner: partner?.receive ? partner : undefined,
      });
      this.strips.set(ch.id, view);
      box.append(view.root);
    }
    const master = masterStrip(this.settings, () => this.changed());
    master.clip.addEventListener("click", () => {
      this.clip.clear();
      master.clip.dataset.lit = "false";
    });
    this.masterView = master;
    $("master").replaceChildren(master.root);
    $("empty").hidden = this.active.length > 0;
    this.editor.renderHidden();
    this.stripFilter.apply();
    this.renderLock();
  }

  /** The lock as stored with the mix: the button's state and every lockable control. */
  private renderLock(): void {
    const locked = this.settings.locked === true;
    const button = $("lock");
    button.setAttribute("aria-pressed", String(locked));
    localText(button, () => t(locked ? "l_locked" : "l_lock"));
    document.body.classList.toggle("locked", locked);
    applyLock(document, locked);
  }

  private toggleLock(): void {
    if (this.settings.locked) delete this.settings.locked;
    else this.settings.locked = true;
    this.renderLock();
    this.save();
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
    const master = this.settings.master;
    // Groups, "more me" and stereo links, resolved as the reference client does (mixer.ts).
    const byId = mixChannels(this.settings);
    this.playout?.configureMix((id) => byId.get(id), master);
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

  private meterAt = 0;
  private readonly drawMeters = (t: number) => {
    requestAnimationFrame(this.drawMeters);
    if (t - this.meterAt < 1000 / METER_FPS - METER_FRAME_SLACK_MS) return;
    this.meterAt = t;
    const p = this.playout;
    if (p && this.ack) {
      this.ack.channels.forEach((id, i) => {
        const v = this.strips.get(id);
        if (v) drawMeter(v.meter, p.levels[i] ?? 0);
      });
    }
    const m = this.masterView;
    if (p && m) {
      drawMeter(m.meter, p.master.peak);
      const lit = String(this.clip.update(p.master.clips, performance.now()));
      if (m.clip.dataset.lit !== lit) m.clip.dataset.lit = lit;
    }
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
    const was = this.health.state;
    this.health.note({
      atMs: wallNow(),
      expected: m.packets_expected,
      received: m.packets_received,
      concealed: this.playout?.jb.concealedPackets ?? 0,
    });
    if (this.health.state !== was || (this.wifiBanner && $("banner").hidden)) this.renderNetwork();
    const good = m.packet_loss_rate < 0.01 && (m.playout_latency_ms || 0) < 80;
    $("quality").dataset.level = this.conn.state !== "streaming" ? "off" : good ? "good" : "fair";
  }

  private async reportQos(): Promise<void> {
    // A stalled stream is reported too: its loss is what the server must hear about.
    const st = this.conn.state;
    if (!this.receiver || !this.conn.clientId || (st !== "streaming" && st !== "stalled")) return;
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
    $("lock").addEventListener("click", () => this.toggleLock());
    this.renderLock();
    $("resume").addEventListener("click", () => {
      this.listening = this.listening || this.playout !== null;
      void this.playout?.ctx.resume();
    });
    // iOS ends audio on an interruption (a call, Siri): any tap resumes it (unless paused on purpose).
    addEventListener("pointerdown", () => {
      const ctx = this.playout?.ctx;
      if (ctx && this.listening && ctx.state !== "running") void ctx.resume();
    });
    const wake = $<HTMLInputElement>("opt-wakelock");
    $("opt-wakelock-row").hidden = !("wakeLock" in navigator);
    wake.checked = this.prefs.wakeLock;
    wake.addEventListener("change", () => {
      this.prefs.wakeLock = wake.checked;
      this.save();
      void this.keeper.syncWakeLock();
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
        stateLog: [...this.stateLog],
        banner: $("banner").hidden ? "" : $("banner").textContent,
        message: $("message-bar").hidden ? "" : $("msg-text").textContent,
        badge: $("conn-state").textContent,
        transport: this.conn.transport,
        reconnects: this.conn.reconnects,
        clientId: this.conn.clientId,
        ack: this.ack,
        audio: this.playout?.ctx.state ?? "none",
        audioTime: this.playout?.ctx.currentTime ?? 0,
        listening: this.listening,
        viaElement: this.route?.viaElement ?? false,
        playout: this.playout?.mode ?? null,
        leadMs: this.playout?.leadMs ?? null,
        underruns: this.playout?.underruns ?? 0,
        /** The post-mix meter: decayed peak (linear) and blocks that reached full scale. */
        master: this.playout
          ? { peak: this.playout.master.peak, clips: this.playout.master.clips }
          : null,
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
        // Server − page clock as the sync estimates it (0 on one machine: the sync's error).
        clockOffsetMs: this.conn.clock.offsetMs,
        /** Whether the page tells the musician the Wi-Fi is the problem, and why. */
        network: {
          state: this.health.state,
          lossRate: this.health.lossRate,
          concealedRate: this.health.concealedRate,
        },
        decodeErrors: this.receiveStats()?.decodeErrors ?? 0,
        /** Opus group packets concealed by their decoder, and dropped as late. */
        concealedGroups: this.receiveStats()?.concealedGroups ?? 0,
        lateGroups: this.receiveStats()?.lateGroups ?? 0,
        heldGroups: this.receiveStats()?.heldGroups ?? 0,
        /** Where datagrams are received and decoded: "worker" (WebTransport + worklet) or "main". */
        audioPath: this.viaWorker() ? "worker" : "main",
        ...(this.receiver ? this.metrics() : {}),
      }),
      /** What the OS does to a page's audio (a call, the lock screen): suspend it. */
      suspendAudio: () => this.playout?.ctx.suspend(),
      latencies: () => [...(this.playout?.latencies ?? [])],
      /** Timed latencies and concealment events since the last call (the Wi-Fi bench). */
      drainTrace: () => this.playout?.trace.drain() ?? { latency: [], gaps: [] },
      networkLatency: () => this.receiveStats()?.latencyMs ?? NaN,
    };
  }
}

/** Connection states kept for the test hook. */
const STATE_LOG = 50;

/** What each meter shows now: its bar in METER_STEPS, times 2, plus 1 when hot. */
const meterShown = new WeakMap<HTMLElement, number>();
/** Meter resolution: 1/200 of the bar (0.3 dB of the 60 dB scale). */
const METER_STEPS = 200;

/**
 * A meter bar at a linear peak level (−60 … 0 dBFS across; hot above −3 dBFS). Only a change is
 * written: every write restyles the bar, and on the plain-http page the same main thread
 * schedules the audio (web/listener/playout.ts).
 */
function drawMeter(bar: HTMLElement, level: number): void {
  const db = level > 0 ? 20 * Math.log10(level) : -Infinity;
  const frac = Math.max(0, Math.min(1, (db - METER_FLOOR_DB) / -METER_FLOOR_DB));
  const hot = db > HOT_DB;
  const shown = Math.round(frac * METER_STEPS) * 2 + (hot ? 1 : 0);
  const was = meterShown.get(bar);
  if (was === shown) return;
  meterShown.set(bar, shown);
  bar.style.transform = `scaleX(${(shown >> 1) / METER_STEPS})`;
  if (was === undefined || (was & 1) !== (shown & 1)) bar.dataset.hot = String(hot);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const app = new ListenerApp();
// Installed on the home screen, the page opens even while the box is unreachable (web/listener/sw.ts).
// Browsers allow a service worker only in a secure context: HTTPS (or localhost).
if (globalThis.isSecureContext && "serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
}
(globalThis as unknown as { __m32: unknown }).__m32 = app.testHook();
