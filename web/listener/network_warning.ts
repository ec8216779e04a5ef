import type { ServerEvent } from "../../src/client/messages.ts";
import { type Language, language, t } from "../i18n/i18n.ts";

/**
 * A `network_warning` (contract §4) in words: the figures it carries against
 * their limits ("the network is the problem", not "no audio"), a failing
 * source, else the server's own reason.
 */
export function networkWarning(ev: ServerEvent, lang: Language = language()): string {
  const n = (k: string) => typeof ev[k] === "number" ? ev[k] as number : NaN;
  if (ev.source_state === "error") return t("l_banner_source", undefined, lang);
  const parts: string[] = [];
  if (n("latency_ms") > n("latency_threshold_ms")) {
    parts.push(t("l_net_latency", {
      ms: Math.round(n("latency_ms")),
      limit: Math.round(n("latency_threshold_ms")),
    }, lang));
  }
  if (n("packet_loss_rate") > n("loss_threshold")) {
    parts.push(t("l_net_loss", {
      pct: (n("packet_loss_rate") * 100).toFixed(1),
      limit: (n("loss_threshold") * 100).toFixed(1),
    }, lang));
  }
  if (parts.length > 0) return t("l_banner_poor_network", { what: parts.join(", ") }, lang);
  return t("l_banner_network", { reason: String(ev.reason ?? "") }, lang);
}
