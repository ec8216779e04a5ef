/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The page's session with the server (docs/listener.md): the contract's flow
 * (docs/protocol.md §2) on the listener WebSocket, with the audio on a
 * transport the browser can receive:
 *
 *   GET /audio-meta → WS /listen?transport=T → welcome → client_config
 *   → client_config_ack → RTP packets (WS binary frames, or DataChannel)
 *   heartbeat every 5 s, ntp_request for clock sync, /qos-metrics every 5 s
 *
 * DataChannel signalling (not trickled; both descriptions carry candidates):
 *   → {"type":"webrtc_offer","sdp":"…"}   ← {"type":"webrtc_answer","sdp":"…"}
 *   the channel: negotiated, id 0, ordered: false, maxRetransmits: 0
 *
 * WebTransport (a secure context, and the server offers it at
 * GET /listener/webtransport → {url, certificate_sha256}):
 *   → {"type":"webtransport_connect"}   ← {"type":"webtransport_token","token":"…"}
 *   new WebTransport(url?token=…, {serverCertificateHashes: [sha-256]})
 *   one RTP packet per datagram
 * With AudioWorklet playout the session is opened in the audio worker
 * (events.openWebTransport, listener/audio_link.ts), which receives and
 * decodes the datagrams there; this socket, its token and the reconnect
 * logic stay here.
 *
 * "streaming" (the page's "Live") means packets are arriving, not that the
 * server acknowledged: after the ack the state is "waiting" until the first
 * packet, "stalled" when they stop, and a session that gets no audio is
 * started afresh (src/client/liveness.ts). The page reports packets received
 * elsewhere (the audio worker's) with `audioArrived()`.
 *
 * When the socket closes (server restart, config change, network) the page
 * reconnects with back-off (0.5, 1, 2, 4, 5, 5 … s) and keeps its settings;
 * while the box does not answer it asks GET /health every 0.5 s and connects
 * as soon as the box is back, without waiting out the back-off.
 * "auto" prefers WebTransport, then the DataChannel, then the WebSocket: a
 * transport that does not open in time is skipped for the page's life.
 */
import {
  type ClientConfigAck,
  clientConfigMessage,
  type ClientConfigPayload,
  heartbeatMessage,
  ntpRequestMessage,
  type ServerEvent,
} from "../../src/client/messages.ts";
import { ClockSync } from "../../src/client/clock_sync.ts";
import { AudioLiveness, DEFAULT_LIVENESS } from "../../src/client/liveness.ts";

export type TransportChoice = "auto" | "webtransport" | "datachannel" | "websocket";
export type TransportKind = "webtransport" | "datachannel" | "websocket";
export const TRANSPORT_CHOICES: readonly TransportChoice[] = [
  "auto",
  "webtransport",
  "datachannel",
  "websocket",
];

/** What GET /listener/webtransport answers while the server offers WebTransport. */
export interface WebTransportOffer {
  url: string;
  certificate_sha256: string;
  expires: string;
}
/** A WebTransport session's surface here: the browser's own, or one in the audio worker. */
export interface WebTransportLink {
  readonly ready: Promise<unknown>;
  readonly closed: Promise<unknown>;
  close(): void;
}

export type ConnState =
  | "idle"
  | "connecting"
  /** Acknowledged, no packet yet. */
  | "waiting"
  /** Packets arriving. */
  | "streaming"
  /** Packets stopped arriving (the session is retried if they do not come back). */
  | "stalled"
  | "reconnecting"
  /** The box does not answer at all (out of Wi-Fi range, restarting, off). */
  | "searching"
  | "stopped";

export interface ListenerAck extends ClientConfigAck {
  channel_groups?: number[][];
}

export interface ConnectionEvents {
  /** Called before every (re)connect: fetch /audio-meta and say what to stream. */
  prepare(): Promise<ClientConfigPayload>;
  /** `code`: the server's error code when it refused the session (e.g. "server_full"). */
  onState(state: ConnState, detail: string, code?: string): void;
  onWelcome(clientId: string): void;
  onAck(ack: ListenerAck): void;
  onPacket(bytes: Uint8Array, arrivalMs: number): void;
  onEvent(ev: ServerEvent): void;
  /** The clock-sync offset (server − client, ms) changed. */
  onClockOffset?(offsetMs: number): void;
  /**
   * Opens the WebTransport session somewhere else (the audio worker, which
   * then receives its datagrams: no onPacket for them); null opens it here.
   */
  openWebTransport?(url: string, hash: Uint8Array<ArrayBuffer>): WebTransportLink | null;
}

/**
 * What the connection takes from the runtime: the browser's by default; a
 * headless listener (src/loadtest/headless_listener.ts) runs this same code in
 * Deno with werift as its RTCPeerConnection and Deno's WebTransport.
 */
export interface ListenerPlatform {
  /** A new peer connection for the DataChannel (host candidates only, no STUN). */
  peerConnection(): RTCPeerConnection;
  /** Whether this runtime can open WebTransport sessions (a secure context with the API). */
  webTransport(): boolean;
}

export const BROWSER_PLATFORM: ListenerPlatform = {
  peerConnection: () => new RTCPeerConnection({ iceServers: [] }),
  webTransport: () => ListenerConnection.webTransportPossible(),
};

export const HEARTBEAT_MS = 5000;
export const NTP_INTERVAL_MS = 2000;
/** The first clock-sync exchanges come quickly so latency shows within a second. */
const NTP_BURST = 5;
const NTP_BURST_MS = 150;
export const DATACHANNEL_OPEN_TIMEOUT_MS = 6000;
export const WEBTRANSPORT_OPEN_TIMEOUT_MS = 6000;
const ICE_GATHER_TIMEOUT_MS = 2000;
export const BACKOFF_MS = [500, 1000, 2000, 4000, 5000];
/** While the box does not answer: how often to ask whether it is back. */
export const BOX_PROBE_MS = 500;
const BOX_PROBE_TIMEOUT_MS = 1000;
/** How often the audio's liveness is judged. */
const LIVENESS_CHECK_MS = 250;
const RTP_CHANNEL_ID = 0;

export class ListenerConnection {
  readonly clock = new ClockSync();
  state: ConnState = "idle";
  transport: TransportKind | null = null;
  clientId = "";
  reconnects = 0;
  private ws: WebSocket | null = null;
  private pc: RTCPeerConnection | null = null;
  private wt: WebTransportLink | null = null;
  private lastOffsetMs = NaN;
  private readonly liveness = new AudioLiveness(DEFAULT_LIVENESS);
  private wtOffer: WebTransportOffer | null = null;
  /** "auto" after a WebTransport failure: not tried again for the page's life. */
  private noWebTransport = false;
  private timers: ReturnType<typeof setTimeout>[] = [];
  private attempt = 0;
  private livenessTimer = false;
  private generation = 0;
  private stopped = false;
  /** "auto" after a DataChannel failure: the WebSocket for the rest of the page's life. */
  private fallback = false;

  constructor(
    private readonly base: URL,
    private choice: TransportChoice,
    private readonly events: ConnectionEvents,
    private readonly now: () => number,
    private readonly platform: ListenerPlatform = BROWSER_PLATFORM,
  ) {}

  setChoice(choice: TransportChoice): void {
    this.choice = choice;
    this.fallback = false;
    this.noWebTransport = false;
    if (this.state !== "idle" && this.state !== "stopped") this.restart("transport changed");
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.teardown();
    this.setState("stopped", "");
  }

  /** Sends a new client_config (new stream) on the open session. */
  sendConfig(payload: ClientConfigPayload): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(clientConfigMessage(payload));
  }

  /**
   * Something says the network may be back (the browser went online, the page
   * became visible again): during a back-off, try now instead of waiting it out.
   */
  nudge(reason: string): void {
    if (this.stopped || (this.state !== "reconnecting" && this.state !== "searching")) return;
    this.teardown();
    this.setState("reconnecting", reason);
    void this.connect();
  }

  /** A packet arrived (here, or in the audio worker): the session is live. */
  audioArrived(): void {
    if (this.liveness.packet(this.now())) {
      this.attempt = 0;
      this.setState("streaming", "");
    }
  }

  /** Whether this page can use WebTransport at all (a secure context with the API). */
  static webTransportPossible(): boolean {
    return globalThis.isSecureContext === true && typeof WebTransport !== "undefined";
  }

  private pick(): TransportKind {
    const wtOk = this.wtOffer !== null && !this.noWebTransport;
    if (this.choice === "webtransport" && wtOk) return "webtransport";
    if (this.choice === "websocket" || this.fallback) return "websocket";
    if (this.choice === "auto" && wtOk) return "webtransport";
    if (this.choice === "auto" && typeof RTCPeerConnection === "undefined") return "websocket";
    return "datachannel";
  }

  /** The server's WebTransport endpoint and certificate hash (fetched at every connect), or null. */
  private async fetchOffer(): Promise<WebTransportOffer | null> {
    if (!this.platform.webTransport()) return null;
    if (this.choice !== "auto" && this.choice !== "webtransport") return null;
    if (this.noWebTransport) return null;
    try {
      const r = await fetch(new URL("/listener/webtransport", this.base), { cache: "no-store" });
      if (!r.ok) {
        await r.body?.cancel();
        return null;
      }
      const o = await r.json() as WebTransportOffer;
      return typeof o.url === "string" && /^[0-9a-f]{64}$/.test(o.certificate_sha256) ? o : null;
    } catch {
      return null;
    }
  }

  private setState(state: ConnState, detail: string, code?: string): void {
    this.state = state;
    this.events.onState(state, detail, code);
  }

  private async connect(): Promise<void> {
    // A newer connect (a nudge, a restart) supersedes this one at its next await.
    const gen = ++this.generation;
    this.teardown();
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting", "fetching the channel list");
    let payload: ClientConfigPayload;
    try {
      payload = await this.events.prepare();
    } catch (e) {
      // fetch rejects (TypeError) only when nothing answered: an HTTP error is an answer.
      const away = e instanceof TypeError;
      if (gen !== this.generation) return;
      return this.retry(`server unreachable (${(e as Error).message})`, away);
    }
    if (this.stopped || gen !== this.generation) return;
    this.wtOffer = await this.fetchOffer();
    if (this.stopped || gen !== this.generation) return;
    const kind = this.pick();
    this.transport = kind;
    const url = new URL(`/listen?transport=${kind}`, this.base);
    url.protocol = this.base.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onmessage = (e) => {
      if (e.data instanceof ArrayBuffer) {
        this.audioArrived();
        this.events.onPacket(new Uint8Array(e.data), this.now());
      } else this.onText(String(e.data), ws, payload, kind);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.retry(e.code === 1013 ? "the server is full" : "connection lost");
    };
  }

  private onText(text: string, ws: WebSocket, payload: ClientConfigPayload, kind: TransportKind) {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    switch (msg.type) {
      case "welcome":
        this.clientId = String(msg.client_id);
        this.events.onWelcome(this.clientId);
        this.every(HEARTBEAT_MS, () => ws.send(heartbeatMessage(Date.now())));
        for (let i = 0; i < NTP_BURST; i++) {
          this.after(i * NTP_BURST_MS, () => ws.send(ntpRequestMessage(this.now())));
        }
        this.every(NTP_INTERVAL_MS, () => ws.send(ntpRequestMessage(this.now())));
        if (kind === "datachannel") void this.openDataChannel(ws);
        if (kind === "webtransport") {
          ws.send(JSON.stringify({ type: "webtransport_connect" }));
          this.after(WEBTRANSPORT_OPEN_TIMEOUT_MS, () => {
            if (this.ws === ws && this.wt === null) {
              this.webTransportFailed("the WebTransport session did not open");
            }
          });
        }
        ws.send(clientConfigMessage(payload));
        return;
      case "ntp_response": {
        const t4 = this.now();
        this.clock.add(Number(msg.t1), Number(msg.t2), Number(msg.t3), t4);
        if (this.clock.offsetMs !== this.lastOffsetMs) {
          this.lastOffsetMs = this.clock.offsetMs;
          this.events.onClockOffset?.(this.lastOffsetMs);
        }
        return;
      }
      case "client_config_ack":
        // Not live yet: that is the first packet's to say (a session may never stream).
        this.events.onAck(msg.payload as ListenerAck);
        this.liveness.start(this.now());
        this.setState("waiting", "waiting for the first audio packet");
        if (!this.livenessTimer) {
          this.livenessTimer = true;
          this.every(LIVENESS_CHECK_MS, () => this.judgeLiveness());
        }
        return;
      case "webrtc_answer":
        this.pc?.setRemoteDescription({ type: "answer", sdp: String(msg.sdp) }).catch(() => {
          this.dataChannelFailed("the server's WebRTC answer was refused");
        });
        return;
      case "webtransport_token":
        if (kind === "webtransport") void this.openWebTransport(ws, String(msg.token));
        return;
      case "event":
        this.events.onEvent(msg.payload as ServerEvent);
        return;
      case "error":
        if (msg.code === "server_full") {
          this.setState("reconnecting", String(msg.message), "server_full");
        }
        if (msg.code === "webtransport_unavailable") this.webTransportFailed(String(msg.message));
        return;
    }
  }

  private async openDataChannel(ws: WebSocket): Promise<void> {
    const pc = this.platform.peerConnection();
    this.pc = pc;
    const dc = pc.createDataChannel("rtp", {
      negotiated: true,
      id: RTP_CHANNEL_ID,
      ordered: false,
      maxRetransmits: 0,
    });
    dc.binaryType = "arraybuffer";
    dc.onmessage = (e) => {
      this.audioArrived();
      this.events.onPacket(new Uint8Array(e.data as ArrayBuffer), this.now());
    };
    let opened = false;
    dc.onopen = () => (opened = true);
    dc.onclose = () => {
      if (this.pc !== pc) return;
      // A channel that worked and closed is a lost connection (the server went away):
      // reconnect and count it. One that never opened means DataChannels fail here.
      if (opened) this.retry("the data channel closed");
      else this.dataChannelFailed("the data channel closed");
    };
    this.after(DATACHANNEL_OPEN_TIMEOUT_MS, () => {
      if (!opened && this.pc === pc) this.dataChannelFailed("the data channel did not open");
    });
    try {
      await pc.setLocalDescription(await pc.createOffer());
    } catch {
      // Closed under us (a reconnect tore it down) or refused: never an unhandled rejection.
      if (this.pc === pc) this.dataChannelFailed("the data channel did not open");
      return;
    }
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && resolve();
      this.after(ICE_GATHER_TIMEOUT_MS, resolve);
    });
    if (this.pc !== pc || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ type: "webrtc_offer", sdp: pc.localDescription?.sdp ?? "" }));
  }

  private async openWebTransport(ws: WebSocket, token: string): Promise<void> {
    const offer = this.wtOffer;
    if (!offer) return this.webTransportFailed("the server does not offer WebTransport");
    const hash = new Uint8Array(32);
    for (let i = 0; i < 32; i++) {
      hash[i] = parseInt(offer.certificate_sha256.slice(2 * i, 2 * i + 2), 16);
    }
    const url = `${offer.url}?token=${encodeURIComponent(token)}`;
    let wt: WebTransportLink;
    try {
      wt = this.events.openWebTransport?.(url, hash) ?? new WebTransport(url, {
        serverCertificateHashes: [{ algorithm: "sha-256", value: hash }],
        requireUnreliable: true,
      });
    } catch (e) {
      return this.webTransportFailed(`WebTransport refused: ${(e as Error).message}`);
    }
    let opened = false;
    wt.closed.then(() => "closed", (e) => `failed (${(e as Error).message})`).then((how) => {
      if (this.wt !== wt && !(this.wt === null && this.ws === ws)) return;
      if (opened) this.retry(`the WebTransport session ${how}`);
      else this.webTransportFailed(`the WebTransport session ${how}`);
    });
    try {
      await wt.ready;
    } catch {
      return; // closed rejects too, and says why
    }
    if (this.ws !== ws) {
      wt.close();
      return;
    }
    opened = true;
    this.wt = wt;
    if (!(wt instanceof WebTransport)) return; // the audio worker reads the datagrams
    const reader = wt.datagrams.readable.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.wt !== wt) break;
        this.audioArrived();
        this.events.onPacket(value as Uint8Array, this.now());
      }
    } catch { /* the session closed: `closed` reconnects */ }
  }

  private webTransportFailed(reason: string): void {
    if (this.choice === "auto" || this.choice === "webtransport") this.noWebTransport = true;
    this.restart(reason);
  }

  private dataChannelFailed(reason: string): void {
    if (this.choice === "auto") this.fallback = true;
    this.restart(reason);
  }

  private restart(reason: string): void {
    this.attempt = 0;
    this.teardown();
    this.setState("reconnecting", reason);
    this.after(0, () => void this.connect());
  }

  private judgeLiveness(): void {
    const was = this.state;
    const s = this.liveness.check(this.now());
    if (s === "stalled" && was === "streaming") {
      this.setState("stalled", "no audio for a second");
    } else if (s === "retry") {
      this.retry(was === "waiting" ? "no audio arrived" : "the audio stopped");
    }
  }

  private retry(reason: string, away = false): void {
    if (this.stopped) return;
    this.teardown();
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt++;
    this.reconnects++;
    this.setState(
      away ? "searching" : "reconnecting",
      `${reason}; retrying in ${(delay / 1000).toFixed(1)} s`,
    );
    this.after(delay, () => void this.connect());
    if (delay > BOX_PROBE_MS) this.watchForBox(away);
  }

  /**
   * During a back-off: ask the box every BOX_PROBE_MS whether it answers, and
   * connect at once when it comes back after not answering (`away`: it did not
   * answer the attempt that failed; a restart is over).
   * A box that answers all along keeps the back-off: whatever failed was not
   * its absence, and retrying faster would only hammer it.
   */
  private watchForBox(away: boolean): void {
    let wasAway = away;
    let busy = false;
    this.every(BOX_PROBE_MS, () => {
      if (busy) return;
      busy = true;
      const timers = this.timers;
      fetch(new URL("/health", this.base), {
        cache: "no-store",
        signal: AbortSignal.timeout(BOX_PROBE_TIMEOUT_MS),
      }).then(async (r) => {
        await r.body?.cancel();
        // Still this back-off (not torn down by a connect meanwhile)?
        if (this.timers !== timers || this.stopped) return;
        if (wasAway) {
          this.setState("reconnecting", "the box is back");
          void this.connect();
        }
      }, () => {
        wasAway = true;
        if (this.timers === timers && this.state === "reconnecting") {
          this.setState("searching", "the box does not answer");
        }
      }).finally(() => (busy = false));
    });
  }

  private every(ms: number, fn: () => void): void {
    this.timers.push(setInterval(() => {
      try {
        fn();
      } catch { /* the socket closed; onclose reconnects */ }
    }, ms));
  }

  private after(ms: number, fn: () => void): void {
    this.timers.push(setTimeout(() => {
      try {
        fn();
      } catch { /* the socket closed; onclose reconnects */ }
    }, ms));
  }

  private teardown(): void {
    for (const t of this.timers) {
      clearInterval(t);
      clearTimeout(t);
    }
    this.timers = [];
    this.livenessTimer = false;
    this.liveness.stop();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.close();
    }
    const pc = this.pc;
    this.pc = null;
    pc?.close();
    const wt = this.wt;
    this.wt = null;
    try {
      wt?.close();
    } catch { /* already closed */ }
  }
}
