/**
 * Which AES67 streams `input.session` names (docs/protocol.md §13), resolved
 * on the control plane at every (re)open of the source:
 *   - a path to an SDP file (it contains "/" or ends in ".sdp", and exists);
 *   - one stream's whole `s=` line, as heard on SAP;
 *   - a sender's `name`: its streams `s=<name> <k>` heard on SAP, in order of k.
 * Channels follow in stream order (stream 1's first), each stream's in its
 * own order; a session with several `m=` blocks gives them in order.
 */
import type { Aes67StreamSpec } from "./aes67_source.ts";
import { isMulticastIpv4, parseSdp, type SdpSession } from "./sdp_parse.ts";
import type { SapSession } from "./sap_listener.ts";

/** The input settings the source needs (CLI flags now; config `aes67.input` later). */
export interface Aes67InputSettings {
  /** `input.session`: a sender's name, a whole `s=` line, or an SDP file path. */
  session: string;
  /** Interface address to join the groups on (default "0.0.0.0": the route's). */
  interfaceAddress?: string;
}

/** What SAP heard (a SapListener). */
export interface SapLookup {
  find(wanted: string): SapSession[];
}

/** A channel list entry of the resolved input. */
export interface Aes67Channel {
  id: number;
  label: string;
}

export interface ResolvedAes67Input {
  streams: Aes67StreamSpec[];
  channels: Aes67Channel[];
  /** "sap" or "file". */
  from: "sap" | "file";
}

function looksLikePath(s: string): boolean {
  return s.includes("/") || s.toLowerCase().endsWith(".sdp");
}

function streamsOf(session: SdpSession, where: string): {
  streams: Aes67StreamSpec[];
  labels: string[];
} {
  if (session.streams.length === 0) {
    throw new Error(
      `AES67 session "${session.name}" (${where}) has no L24/L16 audio stream` +
        (session.skipped.length ? `: ${session.skipped.join("; ")}` : ""),
    );
  }
  const streams: Aes67StreamSpec[] = [];
  const labels: string[] = [];
  for (const s of session.streams) {
    if (!isMulticastIpv4(s.group)) {
      throw new Error(
        `AES67 session "${session.name}" sends to ${s.group}, not a multicast group (only multicast is received)`,
      );
    }
    streams.push({
      name: session.streams.length > 1 ? `${session.name} (m=${s.index + 1})` : session.name,
      group: s.group,
      port: s.port,
      payloadType: s.payloadType,
      encoding: s.encoding,
      sampleRate: s.sampleRate,
      channels: s.channels,
      mediaclkOffset: s.mediaclkOffset,
      sourceAddress: s.sourceAddress,
      ptimeMs: s.ptimeMs,
    });
    labels.push(...s.labels);
  }
  return { streams, labels };
}

/** Resolves `wanted` (see the header); throws an Error saying what was looked for. */
export function resolveAes67Input(
  wanted: string,
  sap: SapLookup | null,
  readTextFile: (path: string) => string = Deno.readTextFileSync,
  ownAddresses: () => readonly string[] = () => [],
): ResolvedAes67Input {
  const w = wanted.trim();
  if (w === "") throw new Error("no AES67 session chosen (--aes67-session)");
  const parts: { streams: Aes67StreamSpec[]; labels: string[] }[] = [];
  let from: "sap" | "file" = "sap";
  let fileError = "";
  if (looksLikePath(w)) {
    try {
      const text = readTextFile(w);
      const r = parseSdp(text);
      if (!r.ok) throw new Error(`SDP file ${w}: ${r.error}`);
      parts.push(streamsOf(r.session, w));
      from = "file";
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      fileError = ` and no file ${w} exists`;
    }
  }
  if (parts.length === 0) {
    const found = sap?.find(w) ?? [];
    if (found.length === 0) {
      throw new Error(
        `AES67 session "${w}" not heard on SAP` +
          (sap ? "" : " (the SAP listener is not running)") + fileError,
      );
    }
    const own = new Set(ownAddresses());
    if (found.every((s) => own.has(s.session.origin.address))) {
      // Its own output looped back: taking it would feed the box its own audio.
      throw new Error(
        `AES67 session "${w}" is this box's own output (origin ${found[0].session.origin.address})`,
      );
    }
    for (const s of found) {
      if (!own.has(s.session.origin.address)) parts.push(streamsOf(s.session, "SAP"));
    }
  }
  const streams = parts.flatMap((p) => p.streams);
  const labels = parts.flatMap((p) => p.labels);
  return {
    streams,
    channels: labels.map((label, i) => ({ id: i + 1, label })),
    from,
  };
}
