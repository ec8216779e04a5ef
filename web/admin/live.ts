/// <reference lib="dom" />
/**
 * The live feed (`/api/admin/live`, docs/admin.md): {"type":"hello"} once
 * with the chart history, then a {"type":"snapshot"} every second that
 * refreshes the overview, the clients, the warnings and the charts, and
 * notices configuration changes made elsewhere. Reconnects on its own; close
 * code 4401 means the admin session ended.
 */
import type { LiveMessage, LoginProbe } from "../../src/admin/api_types.ts";
import { API, api } from "./api.ts";
import { CHART_MAX_WINDOW_MS, drawCharts } from "./charts.ts";
import { channelsDirty, loadChannels } from "./channels.ts";
import { renderClients } from "./clients.ts";
import { $, h } from "./dom.ts";
import { loadHttps } from "./https.ts";
import { renderLog, renderStatus } from "./overview.ts";
import { renderAes67Source } from "./aes67_input.ts";
import { loadQr } from "./qr.ts";
import { loadConfig, settingsDirty } from "./settings.ts";
import { state } from "./state.ts";
import { localText } from "../i18n/dom.ts";
import { type MessageKey, t } from "../i18n/i18n.ts";

const RECONNECT_MS = 2000;
/** The live socket's close code when the admin session ended (src/admin/live.ts). */
const SESSION_ENDED = 4401;

let sessionEnded: () => void = () => {};

/** What to do when the server ends the admin session (show the login form). */
export function onSessionEnded(cb: () => void): void {
  sessionEnded = cb;
}

function setLiveState(text: MessageKey, cls: string): void {
  const el = $("live-state");
  localText(el, () => t(text));
  el.className = `pill ${cls}`;
}

export function startLive(): void {
  state.liveWanted = true;
  if (state.live) return;
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}${API}/live`);
  state.live = ws;
  setLiveState("a_live_connecting", "pill-muted");
  ws.addEventListener("open", () => setLiveState("a_live", "pill-ok"));
  ws.addEventListener("message", (ev) => {
    const msg = JSON.parse(String(ev.data)) as LiveMessage;
    if (msg.type === "hello") {
      state.history = msg.history;
      drawCharts();
    } else if (msg.type === "snapshot") {
      onSnapshot(msg);
    }
  });
  ws.addEventListener("close", (ev) => {
    state.live = null;
    if (ev.code === SESSION_ENDED) return sessionEnded();
    if (!state.liveWanted) return;
    setLiveState("a_live_reconnecting", "pill-warn");
    setTimeout(async () => {
      if (!state.liveWanted) return;
      try {
        const who = await api<LoginProbe>("GET", "/login");
        if (who.logged_in) startLive();
        else sessionEnded();
      } catch {
        setTimeout(startLive, RECONNECT_MS);
      }
    }, RECONNECT_MS);
  });
}

export function stopLive(): void {
  state.liveWanted = false;
  state.live?.close();
  state.live = null;
}

export type Snapshot = Extract<LiveMessage, { type: "snapshot" }>;

/** The latest snapshot, drawn again after a language switch. */
let latest: Snapshot | null = null;

/** Draws the latest snapshot's cards again (another language). */
export function redrawSnapshot(): void {
  if (!latest) return;
  renderStatus(latest.status);
  renderAes67Source(latest.status.source);
  renderClients(latest.clients, latest.time);
  renderLog(latest.status.recent_log);
  drawCharts(latest.time);
}

function onSnapshot(msg: Snapshot): void {
  latest = msg;
  const st = msg.status;
  renderStatus(st);
  renderAes67Source(st.source);
  renderClients(msg.clients, msg.time);
  renderLog(st.recent_log);
  const p = msg.point;
  const last = state.history[state.history.length - 1];
  if (p && (!last || p.t > last.t)) state.history.push(p);
  const cutoff = msg.time - CHART_MAX_WINDOW_MS;
  while (state.history.length > 0 && state.history[0].t < cutoff) state.history.shift();
  drawCharts(msg.time);
  if (
    state.saving === 0 && state.lastVersion !== null && st.config_version !== state.lastVersion
  ) {
    onConfigChangedElsewhere(st.config_version);
  }
}

async function onConfigChangedElsewhere(version: number): Promise<void> {
  state.lastVersion = version;
  if (!settingsDirty() && !channelsDirty()) {
    await Promise.all([loadConfig(), loadChannels(), loadHttps(), loadQr()]);
    return;
  }
  const notice = $("notice");
  const text = h("span");
  localText(text, () => t("a_changed_elsewhere", { version }));
  notice.replaceChildren(
    text,
    h("button", {
      type: "button",
      class: "btn btn-small",
      onclick: async () => {
        notice.hidden = true;
        await Promise.all([loadConfig(), loadChannels()]);
      },
      "data-i18n": "a_discard_reload",
    }, t("a_discard_reload")),
  );
  notice.hidden = false;
}
