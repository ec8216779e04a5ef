/// <reference lib="dom" />
/**
 * The connected clients table, from each live snapshot: the phone (a label
 * from its User-Agent: the protocol has no name a musician sets), address,
 * channels, rate, codec, packets, last heard, QoS figures, and Disconnect
 * (DELETE /api/admin/clients/{id}). On a phone screen each row is a card.
 */
import type { ClientView } from "../../src/admin/api_types.ts";
import { api } from "./api.ts";
import { $, h, messageOf } from "./dom.ts";
import { fmtAgo, fmtChannels, fmtInt, fmtRate, quality } from "./format.ts";
import { type MessageKey, t } from "../i18n/i18n.ts";

/** The codec's name in every language ("none": uncompressed PCM). */
const CODEC: Record<string, string> = { none: "PCM", opus: "Opus" };

export function renderClients(clients: ClientView[], now: number): void {
  $("clients-count").textContent = clients.length === 0 ? "" : t("a_clients_count", {
    n: clients.length,
    streaming: clients.filter((c) => c.streaming).length,
  });
  $("clients-empty").hidden = clients.length > 0;
  const rows = clients.map((c) => {
    const q = c.qos;
    const disconnect = h("button", {
      type: "button",
      class: "btn btn-small btn-danger",
      "data-client": c.client_id,
    }, t("a_disconnect"));
    disconnect.addEventListener("click", () => disconnectClient(c.client_id, disconnect));
    // data-label: on a phone each row is a card and every figure is labelled (admin.css).
    const cell = (label: MessageKey, cls: string | undefined, ...content: (Node | string)[]) =>
      h("td", { class: cls, "data-label": t(label) }, ...content);
    return h(
      "tr",
      {},
      h(
        "td",
        { class: "c-phone", title: c.user_agent ?? undefined },
        h("strong", { class: "device" }, c.device ?? t("a_unknown_device")),
        h("span", { class: "muted small" }, ` ${c.transport}`),
      ),
      cell("a_col_address", "mono", c.address),
      cell("a_col_port", "mono", c.udp_port === null ? "—" : String(c.udp_port)),
      cell("a_col_channels", undefined, fmtChannels(c.channels)),
      cell("a_col_rate", undefined, fmtRate(c.sample_rate)),
      cell("a_col_codec", undefined, CODEC[c.compression ?? ""] ?? c.compression ?? "—"),
      cell("a_col_packets", "num", fmtInt(c.packets_sent)),
      cell("a_col_last_heard", undefined, fmtAgo(c.last_heartbeat, now)),
      cell("a_col_loss", "num", quality(q ? q.packet_loss_rate * 100 : null, 0.5, 2, 2, " %")),
      cell("a_col_jitter", "num", quality(q?.jitter_ms, 10, 30, 1, " ms")),
      cell("a_col_latency", "num", quality(q?.latency_ms, 50, 100, 1, " ms")),
      cell("a_col_rtcp", "num rtcp", rtcpFigures(c.rtcp)),
      h("td", { class: "c-action" }, disconnect),
    );
  });
  $("clients-body").replaceChildren(...rows);
}

/** The client's latest RTCP receiver report (UDP clients), or a dash. */
function rtcpFigures(r: ClientView["rtcp"]): HTMLSpanElement {
  if (r === null) return h("span", { class: "muted", title: t("a_rtcp_none") }, "—");
  const loss = r.fraction_lost * 100;
  const cls = loss >= 2 || r.jitter_ms >= 30
    ? "q-bad"
    : loss >= 0.5 || r.jitter_ms >= 10
    ? "q-warn"
    : "q-ok";
  return h(
    "span",
    { class: cls, title: t("a_rtcp_title") },
    t("a_rtcp_figures", {
      loss: loss.toFixed(1),
      lost: r.cumulative_lost,
      jitter: r.jitter_ms.toFixed(1),
      rtt: r.round_trip_ms === null ? "—" : `${r.round_trip_ms.toFixed(1)} ms`,
    }),
  );
}

async function disconnectClient(id: string, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    await api("DELETE", `/clients/${encodeURIComponent(id)}`);
  } catch (e) {
    button.disabled = false;
    button.title = messageOf(e);
  }
}
