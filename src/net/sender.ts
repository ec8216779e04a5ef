/**
 * The Sender stage: puts finished RTP datagrams on the wire from the fixed RTP
 * source port, with the configured DSCP on every packet.
 *
 * Usage on the hot path (no allocation per packet):
 *   const buf = sender.slot();            // preallocated, maxDatagramBytes long
 *   const len = writePacket(buf, ...);    // write the datagram into it
 *   sender.commit(len, dest);             // queue it (may send a full batch)
 *   ...
 *   sender.flush();                       // once per period: send what is queued
 *
 * A slot is valid until the next `commit`. Implementations: `deno_sender.ts`
 * (Deno's `conn.send`) and `sendmmsg_sender.ts` (libc sendmmsg batches).
 */

/** An IPv4 destination, resolved once per client session (holds precomputed socket addresses). */
export interface UdpDestination {
  readonly hostname: string;
  readonly port: number;
}

export interface SenderStats {
  /** Datagrams handed to the kernel. */
  packets: number;
  bytes: number;
  /** Datagrams the kernel refused (EAGAIN, ENOBUFS, unreachable…), counted, never thrown. */
  errors: number;
  lastError: string;
}

export interface PacketSender {
  /** "deno" or "sendmmsg". */
  readonly kind: string;
  /** The bound local UDP port (the RTP source port). */
  readonly localPort: number;
  /** Largest datagram a slot holds. */
  readonly maxDatagramBytes: number;
  readonly stats: SenderStats;
  destination(hostname: string, port: number): UdpDestination;
  /** The buffer to write the next datagram into. */
  slot(): Uint8Array;
  /** Queues the first `length` bytes of the current slot for `dest`. */
  commit(length: number, dest: UdpDestination): void;
  /** Sends everything queued. */
  flush(): void;
  /** Sets IP_TOS = dscp << 2 on the socket (0 disables marking). */
  setDscp(dscp: number): void;
  close(): void;
}

export interface SenderOptions {
  /** Local address to bind, default "0.0.0.0". */
  hostname?: string;
  port: number;
  maxDatagramBytes: number;
  dscp: number;
  /** How many datagrams a batch holds before an automatic flush (sendmmsg). */
  batchSize?: number;
  /** Coalesce a client's consecutive datagrams with UDP GSO (sendmmsg; default on). */
  gso?: boolean;
}
