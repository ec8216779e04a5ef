/// <reference lib="dom" />
/**
 * The connected clients table, from each live snapshot: address, channels,
 * rate, codec, packets, last heard, QoS figures, and Disconnect
 * (DELETE /api/admin/clients/{id}).
 */
import type { ClientView } from "../../src/admin/api_types.ts";
import { api } from "./api.ts";
import { $, h, messageOf } from "./dom.ts";
import { fmtAgo, fmtChannels, fmtInt, fmtRate, quality } from "./format.ts";

export function renderClients(clients: ClientView[], now: number): void {
  $("clients-count").textContent = clients.length === 0
    ? ""
    : `${clients.length} connected · ${clients.filter((c) => c.streaming).length} streaming`;
  $("clients-empty").hidden = clients.length > 0;
  const rows = clients.map((c) => {
    const q = c.qos;
    const disconnect = h("button", {
      type: "button",
      class: "btn btn-small btn-danger",
      "data-client": c.client_id,
    }, "Disconnect");
    disconnect.addEventListener("click", () => disconnectClient(c.client_id, disconnect));
    return h(
      "tr",
      {},
      h("td", { class: "mono" }, c.address),
      h("td", { class: "mono" }, c.udp_port ?? "—"),
      h("td", {}, fmtChannels(c.channels)),
      h("td", {}, fmtRate(c.sample_rate)),
      h("td", {}, c.compression ?? "—"),
      h("td", { class: "num" }, fmtInt(c.packets_sent)),
      h("td", {}, fmtAgo(c.last_heartbeat, now)),
      h("td", { class: "num" }, quality(q ? q.packet_loss_rate * 100 : null, 0.5, 2, 2, " %")),
      h("td", { class: "num" }, quality(q?.jitter_ms, 10, 30, 1, " ms")),
      h("td", { class: "num" }, quality(q?.latency_ms, 50, 100, 1, " ms")),
      h("td", {}, disconnect),
    );
  });
  $("clients-body").replaceChildren(...rows);
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
