/**
 * werift 0.25.2's SCTP, tuned for one unreliable, unordered audio channel.
 * werift is pure JavaScript; at 20 DataChannel listeners its send path cost the
 * server ≈ 200 µs a packet on the main thread (docs/loadtest/listeners/
 * datachannel-profile.md), and its SCTP did not honour partial reliability.
 * Everything here works on a live association (`pc.sctpTransport.sctp`), on
 * that instance only, and speaks standard SCTP on the wire (RFC 4960, RFC 3758):
 *
 * - `honourPartialReliability`: werift's abandon test is
 *   `!!chunk.maxRetransmits && …`, so `maxRetransmits: 0` meant "retransmit
 *   forever", and it marked the first DATA chunk of its sent queue abandoned
 *   instead of the lost one. A lost unreliable message is now abandoned at its
 *   first loss (a FORWARD-TSN moves the peer on), never resent stale.
 * - `ackEverySecondPacket` (a receiver: the headless listener's werift): werift
 *   acknowledges every DATA packet at once; Chrome's SCTP, like RFC 4960
 *   §6.2, every second packet (or after 200 ms), at once only on a gap or a
 *   duplicate. The headless listener now costs the server the SACKs a page does.
 * - `SctpAudioWriter` (the server's send path): one message is one DATA chunk
 *   queued straight into the association (no DCEP queue, no promise and event
 *   per message), the SCTP packet built into one reused buffer with its CRC32c,
 *   and sealed as one DTLS record (AES-GCM) into another reused buffer, where
 *   werift built each through four to eight Buffer copies. The record is
 *   sealed with one long-lived libcrypto cipher per direction and association
 *   (./dtls_gcm.ts; node:crypto when the library is missing) and sent with
 *   sendto(2) on the ICE pair's own socket (../net/fd_sendto.ts; node:dgram
 *   when that fails): nothing is allocated per record.
 *   The peer's records on that socket are read with recvfrom(2) when the
 *   writer sends (at most every POLL_MS) or every IDLE_POLL_MS, instead of
 *   node:dgram's receive loop (a Buffer, an address and promises per SACK).
 *   `M32_DTLS_CRYPTO=node` and `M32_DTLS_SEND=dgram` take the node:crypto and
 *   node:dgram ways (A/B measurements; `dgram` for both send and receive).
 */
import { Buffer } from "node:buffer";
import { isIP } from "node:net";
import { type GcmAlgorithm, gcmCipher, type RecordCipher } from "./dtls_gcm.ts";
import { FdDatagramReader, FdDatagramSender } from "../net/fd_sendto.ts";

// ---------------------------------------------------------------------------
// The parts of werift's internals used here (werift 0.25.2, lib/index.mjs).

/** werift's DataChunk as its SCTP keeps it in the outbound and sent queues. */
export interface WeriftDataChunk {
  flags: number;
  tsn: number;
  streamId: number;
  streamSeqNum: number;
  protocol: number;
  userData: Buffer;
  abandoned: boolean;
  acked: boolean;
  misses: number;
  retransmit: boolean;
  sentCount: number;
  bookSize: number;
  expiry?: number;
  maxRetransmits?: number;
  sentTime?: number;
  readonly type: number;
}

interface AeadCipher {
  blockAlgorithm: string;
  nonceImplicitLength: number;
  nonceExplicitLength: number;
  authTagLength: number;
  clientWriteKey?: Buffer;
  serverWriteKey?: Buffer;
  clientNonce?: Buffer;
  serverNonce?: Buffer;
}

/** A UDP transport of werift's ICE (one per local host candidate). */
interface UdpTransport {
  type?: string;
  closed?: boolean;
  socket?: {
    send(buf: Uint8Array, port: number, address: string): void;
    address(): { port: number; address: string };
  };
  onData?: (data: Buffer, addr: [string, number]) => void;
}

/** werift's ICE connection (ice/src/ice.ts) as far as sending goes. */
interface IceConnection {
  canSendApplicationData(): boolean;
  protocols?: { transport?: UdpTransport }[];
  nominated?: {
    remoteAddr: [string, number];
    packetsSent: number;
    bytesSent: number;
    protocol?: { transport?: UdpTransport };
  };
}

/** werift's DtlsSocket (DtlsClient / DtlsServer) once connected. */
interface DtlsSocket {
  dtls: { version: { major: number; minor: number }; epoch: number; recordSequenceNumber: number };
  cipher: { sessionType: number; cipher?: Partial<AeadCipher> };
  transport: { send(buf: Buffer): Promise<unknown>; socket?: { ice?: IceConnection } };
}

/** werift's SCTP association. */
export interface WeriftSctp {
  localPort: number;
  readonly isStopped: boolean;
  forwardTsnChunk?: { readonly type: number };
  timer3Handle?: unknown;
  timer3Start(): void;
  fastRecoveryExit?: number;
  flightSize: number;
  cwnd: number;
  readonly peerRwnd: number;
  flightSizeIncrease(chunk: WeriftDataChunk): void;
  transmitOnce(): Promise<void>;
  localVerificationTag: number;
  handleData(data: Buffer): Promise<void>;
  receiveSackChunk(chunk: {
    cumulativeTsn: number;
    advertisedRwnd: number;
    gaps: [number, number][];
    duplicates: number[];
  }): Promise<void>;
  remotePort?: number;
  remoteVerificationTag: number;
  localTsn: number;
  lastReceivedTsn: number;
  maxPayloadSize: number;
  state: string;
  outboundQueue: WeriftDataChunk[];
  sentQueue: WeriftDataChunk[];
  sackMisOrdered: Set<number>;
  sackDuplicates: number[];
  sackNeeded: boolean;
  sackImmediate: boolean;
  sackHasNewDataInPacket: boolean;
  advertisedRwnd: number;
  transport: { send(buf: Buffer): Promise<unknown>; dtls?: { dtls?: DtlsSocket } };
  flush: {
    execute: (...args: unknown[]) => void;
    event: { stack: unknown[]; promiseStack: unknown[] };
  };
  transmit(): Promise<void>;
  /** werift's transmit() is running (awaiting a send): a new call only asks for another round. */
  readonly transmitting: boolean;
  sendChunk(chunk: { readonly type: number; bytes?: Buffer }): Promise<unknown>;
  maybeAbandon(chunk: WeriftDataChunk): boolean;
  markReceived(tsn: number): boolean;
  receiveDataChunk(chunk: WeriftDataChunk): void;
  getInboundStream(streamId: number): {
    addChunk(chunk: WeriftDataChunk): void;
    popMessages(): Iterable<[number, number, Buffer]>;
  };
  receive(streamId: number, ppId: number, data: Buffer): void;
}

const SCTP_DATA_LAST_FRAG = 1;
const SCTP_DATA_FIRST_FRAG = 2;
const SCTP_DATA_UNORDERED = 4;
/** DataChannel PPID of a binary message (RFC 8831). */
export const WEBRTC_BINARY = 53;
const SCTP_COMMON_HEADER = 12;
const DATA_CHUNK_HEADER = 16;
const DTLS_HEADER = 13;
const DTLS_APPLICATION_DATA = 23;
const DTLS_CLIENT = 1;
const RESOLVED = Promise.resolve();
const SACK = 3;
/** An SCTP packet holding one SACK with no gap and no duplicate: common header + 16. */
const PLAIN_SACK_BYTES = SCTP_COMMON_HEADER + 16;

/** What the tuned DataChannels did, over the process (diagnostics and tests). */
export const sctpWriterStats = {
  /** DTLS records sealed by the writer (werift's record path not taken). */
  sealedRecords: 0,
  /** Records from the peer opened by the writer's inbound path (werift's ICE/DTLS layers skipped). */
  openedRecords: 0,
  /** Of them, plain SACKs handed straight to the association's SACK handling. */
  plainSacks: 0,
  /** Records the inbound path could not open (dropped, as werift would). */
  badRecords: 0,
  /** Records sent with sendto(2) on the pair's socket (the others through node:dgram). */
  directSends: 0,
  /** Of them, dropped by the kernel for a full socket buffer. */
  directDrops: 0,
  /** Datagrams read off the pair's socket by polling (node:dgram's receive stopped). */
  polledDatagrams: 0,
};

/**
 * SCTP's congestion window never falls below this much of the stream. The
 * audio is produced at its rate whatever the window says: a window smaller
 * than the stream's rate × the time its acknowledgements take only moves the
 * loss from the wire to the sender's backlog limit (src/listener/
 * channel_sender.ts MAX_BACKLOG_MS), and werift halves the window on each loss
 * and drops it to one packet after a retransmission timeout (measured at 20
 * listeners on the 2-core box: windows of 4–8 KiB, 20–35 packets in flight,
 * SACKs 0.2–1 s late, up to 8 timeouts per listener in 20 s, half the stream
 * dropped at the sender). A phone's SACKs can be that late on Wi-Fi power
 * saving too. The same stream over UDP (the RTP path) has no window at all;
 * what is in flight longer than this is abandoned at the retransmission
 * timeout (unreliable chunks are never resent).
 */
export const WINDOW_FLOOR_MS = 1000;
/** The floor's floor, and the floor before the stream's rate is known (its first second). */
const INITIAL_WINDOW_FLOOR = 64 * 1024;
const RATE_WINDOW_MS = 1000;

/**
 * A DATA chunk as werift's SCTP keeps it in its queues (werift does not
 * export its own class): the fields its transmit and SACK code reads, and
 * `bytes` for werift's own serializer.
 */
class AudioDataChunk implements WeriftDataChunk {
  flags = SCTP_DATA_UNORDERED | SCTP_DATA_FIRST_FRAG | SCTP_DATA_LAST_FRAG;
  tsn = 0;
  streamId = 0;
  streamSeqNum = 0;
  protocol = WEBRTC_BINARY;
  abandoned = false;
  acked = false;
  misses = 0;
  retransmit = false;
  sentCount = 0;
  bookSize: number;
  expiry?: number = undefined;
  maxRetransmits?: number;
  sentTime?: number = undefined;
  constructor(public userData: Buffer, maxRetransmits: number) {
    this.bookSize = userData.length;
    this.maxRetransmits = maxRetransmits;
  }
  get type(): number {
    return 0;
  }
  get bytes(): Buffer {
    const len = DATA_CHUNK_HEADER + this.userData.length;
    const b = Buffer.alloc((len + 3) & ~3);
    b[0] = 0;
    b[1] = this.flags;
    b.writeUInt16BE(len, 2);
    b.writeUInt32BE(this.tsn >>> 0, 4);
    b.writeUInt16BE(this.streamId, 8);
    b.writeUInt16BE(this.streamSeqNum, 10);
    b.writeUInt32BE(this.protocol >>> 0, 12);
    b.set(this.userData, DATA_CHUNK_HEADER);
    return b;
  }
}

// ---------------------------------------------------------------------------
// Partial reliability

/** RFC 3758: abandon an unreliable chunk once its retransmissions or lifetime are used up. */
export function honourPartialReliability(sctp: WeriftSctp): void {
  sctp.maybeAbandon = function (this: WeriftSctp, chunk: WeriftDataChunk): boolean {
    if (chunk.abandoned) return true;
    const abandon = (chunk.maxRetransmits !== undefined &&
      chunk.sentCount > chunk.maxRetransmits) ||
      (chunk.expiry !== undefined && chunk.expiry < Date.now() / 1000);
    if (!abandon) {
      mayRetransmit.add(this); // werift marks it for retransmission
      return false;
    }
    const whole = SCTP_DATA_FIRST_FRAG | SCTP_DATA_LAST_FRAG;
    if ((chunk.flags & whole) === whole) {
      // A message of one chunk (every audio packet): nothing else to find in the queue.
      chunk.abandoned = true;
      chunk.retransmit = false;
      return true;
    }
    const q = this.sentQueue;
    const at = q.indexOf(chunk);
    if (at < 0) {
      chunk.abandoned = true;
      chunk.retransmit = false;
      return true;
    }
    // Every fragment of the message goes with it.
    for (let i = at; i >= 0; i--) {
      const c = q[i];
      c.abandoned = true;
      c.retransmit = false;
      if (c.flags & SCTP_DATA_FIRST_FRAG) break;
    }
    for (let i = at; i < q.length; i++) {
      const c = q[i];
      c.abandoned = true;
      c.retransmit = false;
      if (c.flags & SCTP_DATA_LAST_FRAG) break;
    }
    return true;
  };
}

/** Associations where werift may have marked a chunk for retransmission. */
const mayRetransmit = new WeakSet<WeriftSctp>();

/**
 * werift's transmitOnce walks the whole sent queue for chunks marked for
 * retransmission before it sends anything new — per message, over a sent
 * queue that holds up to a second of the stream (WINDOW_FLOOR_MS) while the
 * SACKs are late. Unreliable chunks are never marked (they are abandoned);
 * until one is, new chunks go out without the walk.
 */
function skipRetransmitScan(sctp: WeriftSctp): void {
  const transmitOnce = sctp.transmitOnce;
  sctp.transmitOnce = async function (this: WeriftSctp): Promise<void> {
    if (mayRetransmit.has(this)) return transmitOnce.call(this);
    if (this.isStopped) return;
    if (this.forwardTsnChunk) {
      await this.sendChunk(this.forwardTsnChunk).catch(() => {});
      this.forwardTsnChunk = undefined;
      if (!this.timer3Handle) this.timer3Start();
    }
    const cwnd = sendWindow(this);
    for (let chunk = nextToSend(this, cwnd); chunk; chunk = nextToSend(this, cwnd)) {
      await this.sendChunk(chunk).catch(() => {});
      if (!this.timer3Handle) this.timer3Start();
    }
    this.flush.execute();
  };
}

/** How far the flight may grow in one transmit (werift's transmitOnce: a burst over the flight, within cwnd). */
function sendWindow(sctp: WeriftSctp): number {
  const burst = (sctp.fastRecoveryExit !== undefined ? 2 : 4) * sctp.maxPayloadSize;
  return Math.min(sctp.flightSize + burst, sctp.cwnd);
}

/**
 * The outbound queue's head if the window and the peer's receive window let
 * it out, moved to the sent queue and booked as sent (werift's transmitOnce);
 * else null.
 */
function nextToSend(sctp: WeriftSctp, cwnd: number): WeriftDataChunk | null {
  const q = sctp.outboundQueue;
  if (q.length === 0 || sctp.flightSize >= cwnd || sctp.peerRwnd <= 0) return null;
  const chunk = q[0];
  if (chunk.bookSize > sctp.peerRwnd && sctp.flightSize > 0) return null;
  q.shift();
  sctp.sentQueue.push(chunk);
  sctp.flightSizeIncrease(chunk);
  chunk.sentCount++;
  chunk.sentTime = Date.now() / 1000;
  return chunk;
}

// ---------------------------------------------------------------------------
// Retransmission timer

/** The timer calls the lazy T3 timer makes (tests drive them by hand). */
export interface TimerCalls {
  now(): number;
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const REAL_TIMERS: TimerCalls = {
  now: () => performance.now(),
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as number),
};

interface T3Sctp {
  rto: number;
  readonly isStopped: boolean;
  timer3Handle?: unknown;
  timer3Start(): void;
  timer3Restart(): void;
  timer3Cancel(): void;
  timer3Expired(): void;
}

/**
 * werift restarts the retransmission timer (T3-rtx) on every SACK that
 * acknowledges data: a clearTimeout and a setTimeout (a Timeout object, two
 * ops) per SACK — ≈ 3 200 a second at 20 listeners. Here one timer stays
 * armed and a restart only moves the deadline; a timer that fires before the
 * deadline arms itself again for the rest. It expires when werift's would
 * (RFC 4960 §6.3.2: RTO after the last restart) and does what werift's does.
 */
export function lazyRetransmissionTimer(sctp: WeriftSctp, timers: TimerCalls = REAL_TIMERS): void {
  const s = sctp as unknown as T3Sctp;
  /** When the timer expires (ms, timers.now()); NaN while it does not run. */
  let deadline = NaN;
  let armed: unknown = undefined;
  let armedFor = NaN;
  const running = { lazyT3: true }; // werift only tests timer3Handle for truth
  const fire = () => {
    armed = undefined;
    // Not running (cancelled, or expired by another way meanwhile), or closed.
    if (Number.isNaN(deadline) || s.timer3Handle !== running || s.isStopped) return;
    const left = deadline - timers.now();
    if (left > 0) {
      armedFor = deadline;
      armed = timers.set(fire, left);
      return;
    }
    deadline = NaN;
    s.timer3Expired(); // clears timer3Handle, as werift's does
  };
  const run = () => {
    const now = timers.now();
    deadline = now + s.rto * 1000;
    s.timer3Handle = running;
    if (armed !== undefined && armedFor <= deadline) return;
    if (armed !== undefined) timers.clear(armed); // the RTO shrank: fire sooner
    armedFor = deadline;
    armed = timers.set(fire, deadline - now);
  };
  s.timer3Start = function (this: T3Sctp) {
    if (this.isStopped) return;
    if (this.timer3Handle) throw new Error("T3 is running");
    run();
  };
  s.timer3Restart = function (this: T3Sctp) {
    if (this.isStopped) return;
    run();
  };
  s.timer3Cancel = function (this: T3Sctp) {
    deadline = NaN;
    this.timer3Handle = undefined;
    if (this.isStopped && armed !== undefined) {
      timers.clear(armed); // closed: nothing left pending
      armed = undefined;
    }
  };
}

// ---------------------------------------------------------------------------
// Receiver: delayed acknowledgement

/**
 * Acknowledge every second DATA packet (or after werift's 200 ms SACK delay),
 * at once only on a duplicate, a gap or a fragment — as Chrome does.
 * In-order arrival skips werift's per-chunk sort and Set copies.
 */
export function ackEverySecondPacket(sctp: WeriftSctp): void {
  const markReceived = sctp.markReceived;
  sctp.markReceived = function (this: WeriftSctp, tsn: number): boolean {
    if (this.sackMisOrdered.size === 0 && tsn === ((this.lastReceivedTsn + 1) >>> 0)) {
      this.lastReceivedTsn = tsn;
      if (this.sackDuplicates.length > 0) this.sackDuplicates = [];
      return false;
    }
    return markReceived.call(this, tsn);
  };
  sctp.receiveDataChunk = function (this: WeriftSctp, chunk: WeriftDataChunk): void {
    this.sackNeeded = true;
    if (this.markReceived(chunk.tsn)) {
      this.sackImmediate = true; // a duplicate
      return;
    }
    this.sackHasNewDataInPacket = true;
    if ((chunk.flags & SCTP_DATA_LAST_FRAG) === 0 || this.sackMisOrdered.size > 0) {
      this.sackImmediate = true;
    }
    const stream = this.getInboundStream(chunk.streamId);
    stream.addChunk(chunk);
    this.advertisedRwnd -= chunk.userData.length;
    for (const message of stream.popMessages()) {
      this.advertisedRwnd += message[2].length;
      this.receive(message[0], message[1], message[2]);
    }
  };
}

// ---------------------------------------------------------------------------
// CRC32c (SCTP's checksum), slice-by-4

const CRC_TABLES = (() => {
  const t = new Int32Array(4 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n];
    for (let k = 1; k < 4; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** CRC32c of `b[start, end)` (as SCTP computes it, the checksum field zeroed). */
export function crc32c(b: Uint8Array, start = 0, end = b.length): number {
  const t = CRC_TABLES;
  let crc = -1;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    crc ^= b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
    crc = t[768 + (crc & 0xff)] ^ t[512 + ((crc >>> 8) & 0xff)] ^
      t[256 + ((crc >>> 16) & 0xff)] ^ t[crc >>> 24];
  }
  for (; i < end; i++) crc = t[(crc ^ b[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

// ---------------------------------------------------------------------------
// Inbound: the peer's records, opened off the UDP socket

/** The association's DTLS socket once the handshake chose AES-GCM, else null. */
function gcmSocket(sctp: WeriftSctp): DtlsSocket | null {
  const socket = sctp.transport.dtls?.dtls;
  const c = socket?.cipher?.cipher;
  const gcm = !!c &&
    (c.blockAlgorithm === "aes-128-gcm" || c.blockAlgorithm === "aes-256-gcm") &&
    c.nonceImplicitLength === 4 && c.nonceExplicitLength === 8 && c.authTagLength === 16 &&
    !!c.clientWriteKey && !!c.serverWriteKey && !!c.clientNonce && !!c.serverNonce;
  return socket && gcm ? socket : null;
}

/** One association's record ciphers: ours to seal, the peer's to open. */
interface RecordCiphers {
  sealKey: Uint8Array;
  openKey: Uint8Array;
  seal: RecordCipher;
  open: RecordCipher;
  /** The implicit nonce halves (RFC 5288 salt) of each direction. */
  sealSalt: Uint8Array;
  openSalt: Uint8Array;
}
const recordCiphers = new WeakMap<DtlsSocket, RecordCiphers>();

/** The socket's ciphers, set up once per key (a new handshake's keys get new ones). */
function ciphersOf(socket: DtlsSocket): RecordCiphers {
  const cipher = socket.cipher.cipher as AeadCipher;
  const weAreClient = socket.cipher.sessionType === DTLS_CLIENT;
  const sealKey = weAreClient ? cipher.clientWriteKey! : cipher.serverWriteKey!;
  const openKey = weAreClient ? cipher.serverWriteKey! : cipher.clientWriteKey!;
  const known = recordCiphers.get(socket);
  if (known && known.sealKey === sealKey && known.openKey === openKey) return known;
  known?.seal.close();
  known?.open.close();
  const algorithm = cipher.blockAlgorithm as GcmAlgorithm;
  const fresh: RecordCiphers = {
    sealKey,
    openKey,
    seal: gcmCipher(algorithm, sealKey, "seal"),
    open: gcmCipher(algorithm, openKey, "open"),
    sealSalt: weAreClient ? cipher.clientNonce! : cipher.serverNonce!,
    openSalt: weAreClient ? cipher.serverNonce! : cipher.clientNonce!,
  };
  recordCiphers.set(socket, fresh);
  return fresh;
}

/**
 * The peer's DTLS application data taken off the association's UDP sockets
 * (one per local host candidate) before werift's STUN parser, ICE
 * connection, two event fan-outs and DTLS record parser: opened here
 * (AES-GCM) and handed to the association — a plain SACK (no gap, no
 * duplicate: nearly all a sender gets) straight to its SACK handling.
 * Anything else (STUN, handshake, alerts, a record that does not open) goes
 * the way it went. Returns false while the handshake has not chosen AES-GCM.
 */
export function openRecordsDirectly(
  sctp: WeriftSctp,
  onError: (e: unknown) => void = () => {},
): boolean {
  const socket = gcmSocket(sctp);
  if (!socket) return false;
  for (const protocol of socket.transport.socket?.ice?.protocols ?? []) {
    const udp = protocol.transport;
    if (udp?.type === "udp" && udp.onData) takeRecords(sctp, socket, udp, udp.onData, onError);
  }
  return true;
}

function takeRecords(
  sctp: WeriftSctp,
  socket: DtlsSocket,
  udp: UdpTransport,
  passOn: (data: Buffer, addr: [string, number]) => void,
  onError: (e: unknown) => void,
): void {
  const handle = recordHandler(sctp, socket, onError);
  udp.onData = (data, addr) => {
    if (!handle(data, data.length)) passOn(data, addr);
  };
}

/**
 * What takes the peer's records: `handle(data, length)` opens `data[0,
 * length)` when it is an application-data record of the association's epoch
 * (true: taken, or dropped when it does not open), else returns false (for
 * werift). `data` is only read during the call.
 */
export function recordHandler(
  sctp: WeriftSctp,
  socket: DtlsSocket,
  onError: (e: unknown) => void,
): (data: Uint8Array, length: number) => boolean {
  const iv = Buffer.alloc(12);
  const aad = Buffer.alloc(13);
  let plain = Buffer.alloc(2048);
  return (data, length) => {
    if (
      length < DTLS_HEADER + 8 + 16 + SCTP_COMMON_HEADER ||
      data[0] !== DTLS_APPLICATION_DATA ||
      ((data[11] << 8) | data[12]) !== length - DTLS_HEADER ||
      ((data[3] << 8) | data[4]) !== socket.dtls.epoch
    ) {
      return false;
    }
    if (length > plain.length) plain = Buffer.alloc(length);
    const n = openRecord(socket, data, length, iv, aad, plain);
    if (n < 0) return true;
    sctpWriterStats.openedRecords++;
    if (
      n === PLAIN_SACK_BYTES && plain[12] === SACK &&
      plain.readUInt32BE(4) === sctp.localVerificationTag >>> 0 &&
      plain.readUInt16BE(24) === 0 && plain.readUInt16BE(26) === 0
    ) {
      const sum = plain.readUInt32LE(8);
      plain.writeUInt32LE(0, 8);
      if (crc32c(plain, 0, PLAIN_SACK_BYTES) !== sum) return true;
      sctpWriterStats.plainSacks++;
      sctp.receiveSackChunk({
        cumulativeTsn: plain.readUInt32BE(16),
        advertisedRwnd: plain.readUInt32BE(20),
        gaps: [],
        duplicates: [],
      }).catch(onError);
      return true;
    }
    // werift keeps parts of the packet (its chunks' data): its own copy.
    sctp.handleData(Buffer.from(plain.subarray(0, n))).catch(onError);
    return true;
  };
}

/**
 * Opens one DTLS 1.2 AES-GCM record from the peer into `out`: the plaintext's
 * length, or -1 when it does not open (dropped, as werift would).
 */
function openRecord(
  socket: DtlsSocket,
  data: Uint8Array,
  length: number,
  iv: Buffer,
  aad: Buffer,
  out: Uint8Array,
): number {
  const ciphers = ciphersOf(socket);
  const salt = ciphers.openSalt;
  const plainLength = length - DTLS_HEADER - 8 - 16;
  iv[0] = salt[0];
  iv[1] = salt[1];
  iv[2] = salt[2];
  iv[3] = salt[3];
  for (let i = 0; i < 8; i++) {
    iv[4 + i] = data[DTLS_HEADER + i]; // the explicit nonce
    aad[i] = data[3 + i]; // epoch ‖ sequence number
  }
  aad[8] = DTLS_APPLICATION_DATA;
  aad[9] = data[1];
  aad[10] = data[2];
  aad.writeUInt16BE(plainLength, 11);
  if (ciphers.open.open(iv, aad, data, DTLS_HEADER + 8, length, out)) return plainLength;
  sctpWriterStats.badRecords++;
  return -1;
}

// ---------------------------------------------------------------------------
// Sender

/**
 * Writes one unreliable, unordered message per `send()` into a werift SCTP
 * association as one DATA chunk. `bufferedAmount` is the bytes queued and
 * not yet sent (the congestion window holds them back), as the channel's
 * `bufferedAmount` would count them.
 */
export class SctpAudioWriter {
  /** The chunks queued in order; the head is dropped from the count once sent. */
  private readonly pending: WeriftDataChunk[] = [];
  private pendingHead = 0;
  private queuedBytes = 0;
  /** One SCTP packet, built here before it is sealed (never kept past the call). */
  private readonly packet = Buffer.alloc(SCTP_COMMON_HEADER + DATA_CHUNK_HEADER + 2048);
  private readonly onError = (e: unknown) => {
    this.errors++;
    this.lastError = (e as Error)?.message ?? String(e);
  };
  errors = 0;
  lastError = "";
  /** Retransmission timeouts (no SACK for an RTO: the window falls to one packet). */
  timeouts = 0;
  /** The congestion window's floor now (bytes): a second of the stream, at least 64 KiB. */
  windowFloor = INITIAL_WINDOW_FLOOR;
  private rateStartMs = NaN;
  private rateBytes = 0;

  constructor(
    private readonly sctp: WeriftSctp,
    private readonly streamId: number,
    /** RFC 8831 maxRetransmits of the channel (0: never resent). */
    private readonly maxRetransmits = 0,
    private readonly now: () => number = () => performance.now(),
  ) {
    honourPartialReliability(sctp);
    skipRetransmitScan(sctp);
    // The window never falls below what the stream sends in WINDOW_FLOOR_MS.
    let cwnd = (sctp as unknown as { cwnd: number }).cwnd;
    Object.defineProperty(sctp, "cwnd", {
      configurable: true,
      enumerable: true,
      get: () => Math.max(cwnd, this.windowFloor),
      set: (v: number) => {
        cwnd = v;
      },
    });
    // werift fires its flush event after each transmission for `send()`'s
    // waiters; with none (this writer never waits) it would still start an
    // async function per call.
    const flush = sctp.flush;
    const execute = flush.execute;
    flush.execute = (...args: unknown[]) => {
      if (flush.event.stack.length === 0 && flush.event.promiseStack.length === 0) return;
      execute(...args);
    };
    const t3 = sctp as unknown as { timer3Expired: () => void };
    const expired = t3.timer3Expired;
    t3.timer3Expired = () => {
      this.timeouts++;
      expired();
    };
    lazyRetransmissionTimer(sctp);
    const sendChunk = sctp.sendChunk;
    sctp.sendChunk = (chunk) => {
      if (chunk.type === 0 && this.sealer()) return this.sendData(chunk as WeriftDataChunk);
      return sendChunk.call(sctp, chunk);
    };
  }

  /** The largest message that is one DATA chunk. */
  get maxMessageBytes(): number {
    return Math.min(
      this.sctp.maxPayloadSize,
      this.packet.length - SCTP_COMMON_HEADER - DATA_CHUNK_HEADER,
    );
  }

  get bufferedAmount(): number {
    const p = this.pending;
    while (this.pendingHead < p.length && p[this.pendingHead].sentCount > 0) {
      this.queuedBytes -= p[this.pendingHead].bookSize;
      this.pendingHead++;
    }
    if (this.pendingHead === p.length) {
      p.length = 0;
      this.pendingHead = 0;
    } else if (this.pendingHead > 64) {
      p.splice(0, this.pendingHead);
      this.pendingHead = 0;
    }
    return this.queuedBytes;
  }

  /** Queues `bytes` (kept until acknowledged or abandoned: never reused by the caller). */
  send(bytes: Uint8Array): void {
    const sctp = this.sctp;
    if (bytes.length === 0 || bytes.length > this.maxMessageBytes) {
      throw new RangeError(`a ${bytes.length}-byte message is not one DATA chunk`);
    }
    const chunk = new AudioDataChunk(
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      this.maxRetransmits,
    );
    chunk.tsn = sctp.localTsn;
    chunk.streamId = this.streamId;
    sctp.localTsn = (sctp.localTsn + 1) >>> 0;
    sctp.outboundQueue.push(chunk);
    this.pending.push(chunk);
    this.queuedBytes += chunk.bookSize;
    const now = this.measure(chunk.bookSize);
    if (!this.transmitNow()) sctp.transmit().catch(this.onError);
    const polled = this.polled;
    if (polled !== undefined && now - this.lastPollMs >= POLL_MS) {
      this.lastPollMs = now;
      for (let i = 0; i < polled.length; i++) if (polled[i].active) polled[i].poll(now);
    }
  }

  /** The stream's byte rate over each second sets the window's floor. Returns now. */
  private measure(bytes: number): number {
    const now = this.now();
    if (Number.isNaN(this.rateStartMs)) {
      this.rateStartMs = now;
      return now;
    }
    this.rateBytes += bytes;
    const span = now - this.rateStartMs;
    if (span < RATE_WINDOW_MS) return now;
    this.windowFloor = Math.max(
      INITIAL_WINDOW_FLOOR,
      Math.round((this.rateBytes / span) * WINDOW_FLOOR_MS),
    );
    this.rateStartMs = now;
    this.rateBytes = 0;
    return now;
  }

  /**
   * What werift's transmit() would send of the outbound queue now, sent here
   * without its two async functions and an await per chunk: only while
   * records go straight to the socket (sendData settles at once), no
   * retransmission is marked, no FORWARD TSN waits and no transmit() is
   * running. False: werift's transmit() must run.
   */
  private transmitNow(): boolean {
    const sctp = this.sctp;
    if (
      this.records?.directIce === undefined || sctp.transmitting || sctp.forwardTsnChunk ||
      mayRetransmit.has(sctp)
    ) return false;
    if (sctp.isStopped) return true;
    const cwnd = sendWindow(sctp);
    for (let chunk = nextToSend(sctp, cwnd); chunk; chunk = nextToSend(sctp, cwnd)) {
      const sent = this.sendData(chunk);
      if (sent !== RESOLVED) sent.catch(this.onError);
      if (!sctp.timer3Handle) sctp.timer3Start();
    }
    sctp.flush.execute();
    return true;
  }

  // The DTLS record sealer, once the handshake has chosen an AES-GCM suite.
  private seal: DtlsSocket | null | undefined;
  private sealer(): DtlsSocket | null {
    if (this.seal !== undefined) return this.seal;
    const socket = gcmSocket(this.sctp);
    if (!socket) {
      // Not (yet) a GCM suite: werift's own path. Decided again next time until connected.
      if (this.sctp.transport.dtls?.dtls?.cipher?.cipher) this.seal = null;
      return null;
    }
    this.seal = socket;
    this.records = new RecordSender(socket);
    openRecordsDirectly(this.sctp, this.onError);
    return socket;
  }

  /** One DATA chunk as one SCTP packet as one DTLS record as one UDP datagram. */
  private sendData(chunk: WeriftDataChunk): Promise<unknown> {
    const sctp = this.sctp;
    if (sctp.state === "closed" || sctp.remotePort === undefined) return Promise.resolve();
    const socket = this.seal!;
    const p = this.packet;
    const data = chunk.userData;
    const chunkLen = DATA_CHUNK_HEADER + data.length;
    const padded = (chunkLen + 3) & ~3;
    const len = SCTP_COMMON_HEADER + padded;
    if (len > p.length) return sctp.sendChunk.call(sctp, chunk); // never for our sizes
    p.writeUInt16BE(sctp.localPort, 0);
    p.writeUInt16BE(sctp.remotePort, 2);
    p.writeUInt32BE(sctp.remoteVerificationTag >>> 0, 4);
    p.writeUInt32LE(0, 8);
    p[12] = 0; // DATA
    p[13] = chunk.flags;
    p.writeUInt16BE(chunkLen, 14);
    p.writeUInt32BE(chunk.tsn >>> 0, 16);
    p.writeUInt16BE(chunk.streamId, 20);
    p.writeUInt16BE(chunk.streamSeqNum, 22);
    p.writeUInt32BE(chunk.protocol >>> 0, 24);
    p.set(data, 28);
    for (let i = 28 + data.length; i < len; i++) p[i] = 0;
    p.writeUInt32LE(crc32c(p, 0, len), 8);

    const sent = this.records!.send(p, len);
    const ice = this.records!.directIce;
    if (ice && this.polled === undefined) this.polled = this.pollSockets(ice, socket);
    return sent;
  }
  /** Seals and sends the SCTP packets (set with the sealer). */
  private records: RecordSender | undefined;
  /** The association's sockets read by polling (node:dgram's receive stopped on them). */
  private polled: PolledSocket[] | undefined;
  private lastPollMs = 0;

  /**
   * Every UDP socket of the association's ICE (one per local host candidate:
   * the peer may send from its side of another pair than the one sent on).
   */
  private pollSockets(ice: IceConnection, socket: DtlsSocket): PolledSocket[] {
    const polled: PolledSocket[] = [];
    for (const protocol of ice.protocols ?? []) {
      const udp = protocol.transport;
      if (udp?.type !== "udp" || !udp.socket || udp.closed) continue;
      const direct = directSender(udp);
      if (!direct) continue;
      const p = pollSocket(udp, direct.fd, this.sctp, socket, this.onError, this.now);
      if (p) polled.push(p);
    }
    return polled;
  }
}

// ---------------------------------------------------------------------------
// DTLS records out

/**
 * Seals SCTP packets as DTLS 1.2 AES-GCM records (one long-lived cipher, one
 * reused record buffer) and sends each on the nominated pair's socket.
 */
class RecordSender {
  private readonly iv = Buffer.alloc(12);
  private readonly aad = Buffer.alloc(13);
  private record = Buffer.alloc(DTLS_HEADER + 8 + 2048 + 16);
  private recordBody = this.record.subarray(DTLS_HEADER + 8);
  private ipPair: unknown = null;
  private directDropped = 0;
  /** The ICE connection once a record went out with sendto (else undefined). */
  directIce: IceConnection | undefined;

  constructor(private readonly socket: DtlsSocket) {}

  /** Seals `p[0, len)` (a whole SCTP packet) and sends it. */
  send(p: Uint8Array, len: number): Promise<unknown> {
    const socket = this.socket;
    if (DTLS_HEADER + 8 + len + 16 > this.record.length) {
      this.record = Buffer.alloc(DTLS_HEADER + 8 + len + 16);
      this.recordBody = this.record.subarray(DTLS_HEADER + 8);
    }
    // DTLS 1.2 record, AEAD (RFC 5288): nonce = implicit salt (4) ‖ explicit (8: epoch ‖ seq).
    const dtls = socket.dtls;
    const ciphers = ciphersOf(socket);
    const salt = ciphers.sealSalt;
    const seq = ++dtls.recordSequenceNumber;
    const iv = this.iv;
    iv[0] = salt[0];
    iv[1] = salt[1];
    iv[2] = salt[2];
    iv[3] = salt[3];
    iv.writeUInt16BE(dtls.epoch, 4);
    iv.writeUIntBE(seq, 6, 6);
    const version = (dtls.version.major << 8) | dtls.version.minor;
    const aad = this.aad;
    aad.writeUInt16BE(dtls.epoch, 0);
    aad.writeUIntBE(seq, 2, 6);
    aad[8] = DTLS_APPLICATION_DATA;
    aad.writeUInt16BE(version, 9);
    aad.writeUInt16BE(len, 11);
    const record = this.record;
    const fragment = 8 + len + 16;
    const total = DTLS_HEADER + fragment;
    ciphers.seal.seal(iv, aad, p, len, this.recordBody);
    record[0] = DTLS_APPLICATION_DATA;
    record[1] = dtls.version.major;
    record[2] = dtls.version.minor;
    for (let i = 4; i < 12; i++) {
      record[i - 1] = iv[i]; // epoch ‖ sequence number, as the header carries them
      record[i + 9] = iv[i]; // the explicit nonce
    }
    record.writeUInt16BE(fragment, 11);
    sctpWriterStats.sealedRecords++;
    // Straight to the nominated pair's UDP socket (werift's path is four async
    // layers: DTLS transport → ICE transport → ICE connection → STUN protocol).
    const ice = socket.transport.socket?.ice;
    const pair = ice?.nominated;
    const udp = pair?.protocol?.transport;
    if (ice && pair && udp?.type === "udp" && udp.socket && !udp.closed && this.isIpPair(pair)) {
      if (!ice.canSendApplicationData()) return RESOLVED;
      const host = pair.remoteAddr[0];
      const port = pair.remoteAddr[1];
      const direct = directSender(udp);
      if (direct && direct.send(record, total, host, port)) {
        this.directIce = ice;
        sctpWriterStats.directSends++;
        sctpWriterStats.directDrops += direct.dropped - this.directDropped;
        this.directDropped = direct.dropped;
      } else {
        if (direct) noDirectSender(udp);
        // node:dgram keeps the buffer until its send completes: a copy.
        udp.socket.send(Buffer.from(record.subarray(0, total)), port, host);
      }
      pair.packetsSent++;
      pair.bytesSent += total;
      return RESOLVED;
    }
    return socket.transport.send(Buffer.from(record.subarray(0, total)));
  }

  /** The pair's remote address is an IP literal (werift resolves a name first). */
  private isIpPair(pair: { remoteAddr: [string, number] }): boolean {
    if (pair === this.ipPair) return true;
    if (!isIP(pair.remoteAddr[0])) return false;
    this.ipPair = pair;
    return true;
  }
}

/**
 * Every SCTP packet of the association (a receiver's SACKs) sealed and sent by
 * a RecordSender instead of werift's DTLS and ICE layers (a cipher object
 * and five async calls per packet). Returns false while the handshake has not
 * chosen AES-GCM.
 */
export function sealRecordsDirectly(sctp: WeriftSctp): boolean {
  const socket = gcmSocket(sctp);
  if (!socket) return false;
  const records = new RecordSender(socket);
  sctp.transport.send = (packet: Buffer) => records.send(packet, packet.length);
  return true;
}

// ---------------------------------------------------------------------------
// sendto(2) on werift's sockets

/** Per UDP transport of werift's ICE: its socket's sender, or null (node:dgram). */
const directSenders = new WeakMap<UdpTransport, FdDatagramSender | null>();
let directAllowed: boolean | undefined;

function directSender(udp: UdpTransport): FdDatagramSender | null {
  const known = directSenders.get(udp);
  if (known !== undefined) return known;
  if (directAllowed === undefined) {
    try {
      directAllowed = Deno.env.get("M32_DTLS_SEND") !== "dgram";
    } catch {
      directAllowed = true;
    }
  }
  let sender: FdDatagramSender | null = null;
  if (directAllowed) {
    try {
      // werift binds its host candidates' sockets to the wildcard address.
      const bound = udp.socket!.address();
      sender = FdDatagramSender.forPort(bound.port, bound.address);
    } catch {
      sender = null; // FFI or libc missing, or the socket is not found: node:dgram
    }
  }
  directSenders.set(udp, sender);
  return sender;
}

/** sendto failed on this socket for another reason than a full buffer: node:dgram from now on. */
function noDirectSender(udp: UdpTransport): void {
  directSenders.set(udp, null);
}

// ---------------------------------------------------------------------------
// recvfrom(2) on the pair's socket

/** A sending writer reads its socket at most this often (a packet time: SACKs ≤ 2 ms late). */
export const POLL_MS = 2;
/** Every polled socket is read at least this often (a pause in the stream, STUN consent). */
export const IDLE_POLL_MS = 20;
/** A socket the writer's polls found empty this many times in a row is left to the idle timer. */
const IDLE_AFTER_POLLS = 100;
/** Datagrams one poll reads at most (then the next poll goes on). */
const POLL_BUDGET = 256;

/**
 * The pair's socket read with recvfrom(2) instead of node:dgram's receive
 * loop: the peer's records go to the record handler, anything else (STUN,
 * alerts) to werift's handler as a Buffer of its own, as node:dgram would
 * have delivered it.
 */
class PolledSocket {
  lastPollMs = 0;
  /**
   * The peer's records arrive here (the writer polls it as it sends); a socket
   * that got nothing for IDLE_AFTER_POLLS polls is read by the idle timer only.
   */
  active = false;
  private empty = 0;
  constructor(
    private readonly udp: UdpTransport,
    private readonly reader: FdDatagramReader,
    private readonly handle: (data: Uint8Array, length: number) => boolean,
    private readonly now: () => number,
    private readonly onError: (e: unknown) => void,
  ) {}

  poll(now = this.now()): void {
    this.lastPollMs = now;
    // werift sets `closed` before it closes the socket: the fd is never read after.
    if (this.udp.closed) return void polledSockets.delete(this);
    const reader = this.reader;
    for (let budget = POLL_BUDGET; budget > 0; budget--) {
      const n = reader.next();
      if (n >= 0) {
        this.active = true;
        this.empty = 0;
      } else if (budget === POLL_BUDGET && ++this.empty >= IDLE_AFTER_POLLS) {
        this.active = false;
      }
      if (n < 0) {
        if (reader.lastErrno !== 0) polledSockets.delete(this); // not ours any more
        return;
      }
      sctpWriterStats.polledDatagrams++;
      // Whatever a peer sends must not throw into the writer or the timer (werift's own
      // receive path catches its handler's errors too).
      try {
        if (this.handle(reader.buf, n)) continue;
        this.udp.onData?.(
          Buffer.from(reader.buf.subarray(0, n)),
          [reader.fromHost, reader.fromPort],
        );
      } catch (e) {
        this.onError(e);
      }
    }
  }
}

const polledSockets = new Set<PolledSocket>();
let idleTimer: ReturnType<typeof setInterval> | undefined;

function idlePoll(): void {
  const now = performance.now();
  for (const p of polledSockets) if (now - p.lastPollMs >= IDLE_POLL_MS) p.poll(now);
  if (polledSockets.size === 0 && idleTimer !== undefined) {
    clearInterval(idleTimer);
    idleTimer = undefined;
  }
}

/** node:dgram's UDP handle of a werift socket (Deno: the socket's state symbol). */
function dgramHandle(udp: UdpTransport): { recvStop(): number } | null {
  const socket = udp.socket as unknown as Record<symbol, { handle?: { recvStop?: () => number } }>;
  for (const sym of Object.getOwnPropertySymbols(socket)) {
    if (sym.description !== "kStateSymbol") continue;
    const handle = socket[sym]?.handle;
    return typeof handle?.recvStop === "function" ? handle as { recvStop(): number } : null;
  }
  return null;
}

/** Stops node:dgram's receive loop on the pair's socket and reads it here; null if it cannot. */
function pollSocket(
  udp: UdpTransport,
  fd: number,
  sctp: WeriftSctp,
  socket: DtlsSocket,
  onError: (e: unknown) => void,
  now: () => number,
): PolledSocket | null {
  if (!directAllowed) return null;
  const handle = dgramHandle(udp);
  if (!handle) return null;
  let polled: PolledSocket;
  try {
    polled = new PolledSocket(
      udp,
      new FdDatagramReader(fd),
      recordHandler(sctp, socket, onError),
      now,
      onError,
    );
  } catch {
    return null;
  }
  // node:dgram's receive in flight still delivers one datagram (to werift's handler, as before).
  handle.recvStop();
  polledSockets.add(polled);
  if (idleTimer === undefined) {
    const timer = setInterval(idlePoll, IDLE_POLL_MS);
    Deno.unrefTimer(timer);
    idleTimer = timer;
  }
  return polled;
}
