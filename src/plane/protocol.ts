/**
 * Messages between the control plane (main thread) and the audio plane's
 * worker (./audio_worker.ts), and the shared counters the worker writes and
 * the main thread reads without a message.
 *
 *   main ──init──▶ worker ──ready(localPort, kind)──▶ main
 *   main ──add / remove / configure / dscp──▶ worker         (between periods)
 *   main ──start(gen, spec, ptimeMs)──▶ worker ──started | start_failed──▶ main
 *   main ──stop(gen)──▶ worker ──stopped──▶ main;   worker ──fault(gen)──▶ main
 *   worker ──flowing(gen)──▶ main      a source's first period (once per source)
 *   worker ══relay ring══▶ main         browser transports' packets, through shared
 *                                      memory, published once per period (./relay.ts)
 *   main ──aes67(plan)──▶ worker ──aes67_status──▶ main   the AES67 output (once a second)
 *   worker ──log / sender_error──▶ main
 *   worker ──client_error(clientId)──▶ main   one client's stream failed in the engine
 *                                      (once per client; the session layer ends it)
 *   main ──close──▶ worker ──closed──▶ main
 *
 * Counters (Float64Array over a SharedArrayBuffer, written by the worker
 * after every period):
 *
 *   [0] periods  [1] total packets  [2] sender packets  [3] sender bytes
 *   [4] sender errors  [5] source periods  [6..7] reserved
 *   [8 + 8·slot …] client `slot`: packets sent, bytes sent, then its latest
 *   RTCP receiver report: reports taken, fraction lost (0–1), cumulative lost,
 *   jitter ms, round trip ms (NaN: none), arrival (epoch ms)
 *
 * Gates (Int32Array, one per slot, ./slot_gate.ts): the control plane stops a
 * client there synchronously; the worker passes a client's gate for each period.
 */
import type { Aes67SendPlan, Aes67SendStatus } from "../aes67/output.ts";
import type { SourceSpec } from "../audio/source_factory.ts";
import type { SourceFormat } from "../audio/source.ts";
import type { SenderKind } from "../net/create_sender.ts";
import type { ClientStreamParams } from "../session/engine.ts";
import type { LogFields, LogLevel } from "../util/log.ts";

export const C_PERIODS = 0;
export const C_TOTAL_PACKETS = 1;
export const C_SENDER_PACKETS = 2;
export const C_SENDER_BYTES = 3;
export const C_SENDER_ERRORS = 4;
/** Periods the running sources delivered (whether or not a client took them). */
export const C_SOURCE_PERIODS = 5;
export const C_CLIENTS = 8;
/** Counters per client slot (offsets below, from `C_CLIENTS + C_STRIDE·slot`). */
export const C_STRIDE = 8;
export const CS_PACKETS = 0;
export const CS_BYTES = 1;
export const CS_RR_REPORTS = 2;
export const CS_RR_FRACTION_LOST = 3;
export const CS_RR_CUMULATIVE_LOST = 4;
export const CS_RR_JITTER_MS = 5;
export const CS_RR_RTT_MS = 6;
export const CS_RR_AT_MS = 7;
/** Client slots: more than max_clients can ever be (the contract caps it far lower). */
export const MAX_CLIENT_SLOTS = 1024;
export const COUNTER_BYTES = (C_CLIENTS + C_STRIDE * MAX_CLIENT_SLOTS) *
  Float64Array.BYTES_PER_ELEMENT;

export interface InitMessage {
  type: "init";
  sender: {
    kind: SenderKind;
    hostname: string;
    port: number;
    maxDatagramBytes: number;
    dscp: number;
  };
  extIntervalMs: number;
  maxDatagramBytes: number;
  resample: boolean;
  opus: boolean;
  counters: SharedArrayBuffer;
  captureToWire: SharedArrayBuffer;
  lateness: SharedArrayBuffer;
  /** Browser transports' datagrams to the main thread (./relay.ts). */
  relay: SharedArrayBuffer;
  /** One gate per client slot: a stopped client gets nothing more (./slot_gate.ts). */
  gates: SharedArrayBuffer;
  /** Bundled code of the workers the audio plane starts itself (a build's ALSA reader). */
  embedded: Record<string, string>;
}

export type ToWorker =
  | InitMessage
  | (Omit<ClientStreamParams, "sender"> & {
    type: "add";
    slot: number;
    /** A browser transport's datagram limit: its packets come back in `relay`; null: UDP. */
    relayMaxDatagramBytes: number | null;
  })
  | { type: "remove"; clientId: string }
  | { type: "configure"; extIntervalMs: number; maxDatagramBytes: number }
  | { type: "dscp"; dscp: number }
  /** The AES67 output's streams (null: off), applied between periods (src/aes67/output.ts). */
  | { type: "aes67"; plan: Aes67SendPlan | null }
  | { type: "start"; gen: number; spec: SourceSpec; ptimeMs: number }
  | { type: "stop"; gen: number }
  | { type: "close" };

export type FromWorker =
  | { type: "ready"; localPort: number; kind: string }
  | { type: "init_failed"; name: string; message: string }
  | { type: "started"; gen: number; format: SourceFormat }
  | { type: "start_failed"; gen: number; message: string }
  | { type: "stopped"; gen: number }
  | { type: "fault"; gen: number; message: string }
  /** Source `gen` delivered its first period (the control plane's "audio flows" at once). */
  | { type: "flowing"; gen: number }
  | { type: "log"; level: LogLevel; category: string; message: string; fields: LogFields }
  | { type: "sender_error"; lastError: string }
  | { type: "client_error"; clientId: string; message: string }
  /** The AES67 output's counters, once a second while it sends. */
  | { type: "aes67_status"; status: Aes67SendStatus }
  | { type: "closed" };
