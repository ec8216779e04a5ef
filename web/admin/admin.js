// m32-server admin page (plain ES module, no build step). Talks to the admin
// API (docs/protocol.md §9) and the live feed `/api/admin/live`, which pushes
// {"type":"hello","history":[…]} once and {"type":"snapshot",…} every second.

const API = "/api/admin";
/** The charts show up to 10 minutes, at least 1 (a young server shows what it has). */
const CHART_MAX_WINDOW_MS = 10 * 60 * 1000;
const CHART_MIN_WINDOW_MS = 60 * 1000;
const RECONNECT_MS = 2000;
const SESSION_ENDED = 4401;
const LOG_LINES = 30;

const $ = (id) => document.getElementById(id);

/** Creates an element: h("td", {class: "num"}, "12"). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

class HttpError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const res = await fetch(API + path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = data?.error ?? {};
    if (res.status === 401 && path !== "/login") showLogin();
    throw new HttpError(res.status, err.code ?? "http_error", err.message ?? `HTTP ${res.status}`);
  }
  return data;
}

// ---------------------------------------------------------------- state

const state = {
  config: null,
  channels: [], // saved, sorted by id
  rows: [], // edited, in display (send) order
  history: [],
  live: null,
  liveWanted: false,
  lastVersion: null,
  /** Saves in flight: their own version bump is not a change "elsewhere". */
  saving: 0,
  /** GET /api/admin/qr, GET /api/admin/https, and which code the QR card shows ("http" or default). */
  qr: null,
  https: null,
  qrMode: null,
};

// ---------------------------------------------------------------- formatting

const fmtInt = (n) => (n === null || n === undefined ? "—" : Math.round(n).toLocaleString("en-US"));

function fmtDuration(s) {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  const hrs = Math.floor(s / 3600);
  if (hrs < 48) return `${hrs} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(hrs / 24)} d ${hrs % 24} h`;
}

function fmtAgo(iso, now) {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 1 ? "now" : `${fmtDuration(s)} ago`;
}

function fmtRate(hz) {
  return hz ? `${(hz / 1000).toLocaleString("en-US")} kHz` : "—";
}

function fmtChannels(ids) {
  if (!ids || ids.length === 0) return "—";
  // 1,2,3,5 → "1–3, 5"
  const parts = [];
  let start = ids[0];
  let prev = ids[0];
  for (const id of [...ids.slice(1), null]) {
    if (id !== null && id === prev + 1) {
      prev = id;
      continue;
    }
    parts.push(start === prev ? `${start}` : `${start}–${prev}`);
    start = prev = id;
  }
  return `${parts.join(", ")} (${ids.length})`;
}

function quality(value, warn, bad, digits = 1, unit = "") {
  if (value === null || value === undefined) return h("span", { class: "muted" }, "—");
  const cls = value >= bad ? "q-bad" : value >= warn ? "q-warn" : "q-ok";
  return h("span", { class: cls }, `${value.toFixed(digits)}${unit}`);
}

function flash(el, text, isError = false) {
  el.textContent = text;
  el.classList.toggle("error", isError);
  el.classList.toggle("muted", !isError);
}

// ---------------------------------------------------------------- login

function showLogin() {
  stopLive();
  $("app-view").hidden = true;
  $("logout").hidden = true;
  $("live-state").hidden = true;
  $("login-view").hidden = false;
  $("login-password").focus();
}

async function onLogin(ev) {
  ev.preventDefault();
  const err = $("login-error");
  err.hidden = true;
  try {
    await api("POST", "/login", { password: $("login-password").value });
    $("login-password").value = "";
    await showApp();
  } catch (e) {
    err.textContent = e.status === 401 ? "Wrong password." : e.message;
    err.hidden = false;
  }
}

async function onLogout() {
  try {
    await api("POST", "/logout");
  } finally {
    showLogin();
  }
}

async function showApp() {
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  $("logout").hidden = false;
  $("live-state").hidden = false;
  await Promise.all([loadConfig(), loadChannels(), loadQr(), loadHttps()]);
  startLive();
}

// ---------------------------------------------------------------- settings

function settingsInputs() {
  return [...$("settings-form").querySelectorAll("[name]")].filter((el) => el.name.includes("."));
}

function readInput(el) {
  if (el.dataset.type === "boolean") return el.checked;
  if (el.dataset.type === "number") return el.value.trim() === "" ? NaN : Number(el.value);
  return el.value;
}

function savedValue(name) {
  const [section, key] = name.split(".");
  return state.config?.[section]?.[key];
}

async function loadConfig() {
  state.config = await api("GET", "/config");
  state.lastVersion = state.config.config_version;
  for (const el of settingsInputs()) {
    const v = savedValue(el.name);
    if (el.dataset.type === "boolean") el.checked = Boolean(v);
    else el.value = String(v);
    el.classList.remove("invalid");
  }
  settingsChanged();
}

function settingsPatch() {
  const patch = {};
  for (const el of settingsInputs()) {
    const v = readInput(el);
    if (v === savedValue(el.name)) continue;
    const [section, key] = el.name.split(".");
    (patch[section] ??= {})[key] = v;
  }
  return patch;
}

function settingsChanged() {
  let bad = false;
  for (const el of settingsInputs()) {
    const invalid = el.dataset.type === "number" && !el.checkValidity();
    el.classList.toggle("invalid", invalid);
    bad ||= invalid;
  }
  const dirty = Object.keys(settingsPatch()).length > 0;
  $("settings-save").disabled = !dirty || bad;
  $("settings-revert").disabled = !dirty;
  if (dirty) flash($("settings-status"), bad ? "Fix the marked fields." : "Unsaved changes.", bad);
}

async function onSaveSettings(ev) {
  ev.preventDefault();
  const patch = settingsPatch();
  if (Object.keys(patch).length === 0) return;
  $("settings-save").disabled = true;
  state.saving++;
  try {
    const r = await api("PATCH", "/config", patch);
    state.lastVersion = r.config_version;
    await loadConfig();
    flash($("settings-status"), savedText(r));
  } catch (e) {
    flash($("settings-status"), e.message, true);
    settingsChanged();
  } finally {
    state.saving--;
  }
}

function savedText(r) {
  const n = r.sessions_ended ?? 0;
  const restarted = n === 0 ? "" : ` · ${n} stream${n === 1 ? "" : "s"} restarted`;
  return `Saved (version ${r.config_version})${restarted}.`;
}

// ---------------------------------------------------------------- channels

async function loadChannels() {
  state.channels = await api("GET", "/channels");
  state.rows = state.channels.map((c) => ({ ...c }))
    .sort((a, b) => a.order - b.order || a.id - b.id);
  renderChannels();
}

function channelsDirty() {
  const saved = new Map(state.channels.map((c) => [c.id, c]));
  return state.rows.some((r, i) => {
    const c = saved.get(r.id);
    return c.name !== r.name.trim() || c.enabled !== r.enabled || orderOf(i) !== c.order;
  }) || !sameSendOrder();
}

/** Saved send order equals the edited one (positions among all rows). */
function sameSendOrder() {
  const saved = [...state.channels].sort((a, b) => a.order - b.order || a.id - b.id)
    .map((c) => c.id).join(",");
  return saved === state.rows.map((r) => r.id).join(",");
}

const orderOf = (index) => index + 1;

function renderChannels() {
  const body = $("channels-body");
  const saved = new Map(state.channels.map((c) => [c.id, c]));
  let pos = 0;
  const rows = state.rows.map((r, i) => {
    const c = saved.get(r.id);
    const changed = c.name !== r.name.trim() || c.enabled !== r.enabled;
    if (r.enabled) pos++;
    const name = h("input", {
      type: "text",
      value: r.name,
      maxlength: "32",
      "aria-label": `Name of channel ${r.id}`,
      "data-id": String(r.id),
      oninput: (ev) => {
        r.name = ev.target.value;
        const bad = r.name.trim() === "";
        ev.target.classList.toggle("invalid", bad);
        ev.target.closest("tr").classList.toggle("changed", saved.get(r.id).name !== r.name.trim());
        channelsChanged();
      },
    });
    return h(
      "tr",
      { class: [r.enabled ? "" : "off", changed ? "changed" : ""].join(" ").trim() || undefined },
      h("td", { class: "ch-id" }, String(r.id).padStart(2, "0")),
      h(
        "td",
        {},
        h("input", {
          type: "checkbox",
          checked: r.enabled,
          "aria-label": `Send channel ${r.id}`,
          "data-id": String(r.id),
          onchange: (ev) => {
            r.enabled = ev.target.checked;
            renderChannels();
          },
        }),
      ),
      h("td", {}, name),
      h(
        "td",
        {},
        h(
          "div",
          { class: "ch-order" },
          h("span", { class: r.enabled ? "ch-pos" : "ch-pos off" }, r.enabled ? String(pos) : "—"),
          h("button", {
            type: "button",
            class: "btn btn-icon",
            title: "Move up",
            "aria-label": `Move channel ${r.id} up`,
            "data-move": "up",
            "data-id": String(r.id),
            disabled: i === 0,
            onclick: () => move(i, -1),
          }, "▲"),
          h("button", {
            type: "button",
            class: "btn btn-icon",
            title: "Move down",
            "aria-label": `Move channel ${r.id} down`,
            "data-move": "down",
            "data-id": String(r.id),
            disabled: i === state.rows.length - 1,
            onclick: () => move(i, 1),
          }, "▼"),
        ),
      ),
    );
  });
  body.replaceChildren(...rows);
  const sent = state.rows.filter((r) => r.enabled).length;
  $("channels-summary").textContent = `${sent} of ${state.rows.length} sent`;
  channelsChanged();
}

function move(i, delta) {
  const j = i + delta;
  if (j < 0 || j >= state.rows.length) return;
  [state.rows[i], state.rows[j]] = [state.rows[j], state.rows[i]];
  renderChannels();
  const btn = $("channels-body").querySelector(
    `button[data-id="${state.rows[j].id}"][data-move="${delta < 0 ? "up" : "down"}"]`,
  );
  (btn && !btn.disabled
    ? btn
    : $("channels-body").querySelector(`input[data-id="${state.rows[j].id}"]`))
    ?.focus();
}

function channelsChanged() {
  const dirty = channelsDirty();
  const bad = state.rows.some((r) => r.name.trim() === "");
  $("channels-save").disabled = !dirty || bad;
  $("channels-revert").disabled = !dirty;
  if (dirty) {
    flash($("channels-status"), bad ? "Every channel needs a name." : "Unsaved changes.", bad);
  }
}

function setAll(enabled) {
  for (const r of state.rows) r.enabled = enabled;
  renderChannels();
}

function sortById() {
  state.rows.sort((a, b) => a.id - b.id);
  renderChannels();
}

async function onSaveChannels() {
  const body = state.rows.map((r, i) => ({
    id: r.id,
    name: r.name.trim(),
    enabled: r.enabled,
    order: orderOf(i),
  })).sort((a, b) => a.id - b.id);
  $("channels-save").disabled = true;
  state.saving++;
  try {
    const r = await api("PUT", "/channels", body);
    state.lastVersion = r.config_version;
    await loadChannels();
    flash($("channels-status"), savedText(r));
  } catch (e) {
    flash($("channels-status"), e.message, true);
    channelsChanged();
  } finally {
    state.saving--;
  }
}

// ---------------------------------------------------------------- QR

async function loadQr() {
  state.qr = await api("GET", "/qr");
  renderQr();
}

/** With HTTPS on the code opens the secure page; a switch shows the plain one instead. */
function renderQr() {
  const r = state.qr;
  if (!r) return;
  const secure = r.https !== null && r.https !== undefined && state.qrMode !== "http";
  $("qr-switch").hidden = !r.https;
  $("qr-show-https").setAttribute("aria-pressed", String(secure));
  $("qr-show-http").setAttribute("aria-pressed", String(!secure));
  const svgText = secure ? r.https.svg : r.svg;
  const box = $("qr");
  if (svgText) {
    const doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
    const svg = document.importNode(doc.documentElement, true);
    svg.setAttribute("aria-hidden", "true");
    box.replaceChildren(svg);
    box.hidden = false;
  } else {
    box.replaceChildren();
    box.hidden = true;
  }
  $("qr-url").textContent = (secure ? r.https.url : r.url) ?? "no network address";
  $("qr-mode-note").textContent = secure
    ? "Secure page: lower latency. Phones warn once about the certificate (see “Secure listener page” below)."
    : r.https
    ? "Plain page: no certificate warning, but no WebTransport or AudioWorklet."
    : "";
  $("qr-mode-note").hidden = $("qr-mode-note").textContent === "";
  const extra = r.addresses.length > 1
    ? `Also reachable at ${r.addresses.slice(1).join(", ")}.`
    : "";
  $("qr-note").textContent = [r.note, extra].filter(Boolean).join(" ");
  $("qr-note").hidden = $("qr-note").textContent === "";
}

// ---------------------------------------------------------------- HTTPS

async function loadHttps() {
  state.https = await api("GET", "/https");
  $("https-enabled").checked = state.https.enabled;
  $("https-port").value = String(state.https.port);
  renderHttps();
  httpsChanged();
}

function httpsEdits() {
  const s = state.https;
  if (!s) return {};
  const edits = {};
  const enabled = $("https-enabled").checked;
  const port = $("https-port").value.trim() === "" ? NaN : Number($("https-port").value);
  if (enabled !== s.enabled) edits.enabled = enabled;
  if (port !== s.port) edits.port = port;
  return edits;
}

function httpsChanged() {
  const input = $("https-port");
  const bad = !input.checkValidity();
  input.classList.toggle("invalid", bad);
  const dirty = Object.keys(httpsEdits()).length > 0;
  $("https-save").disabled = !dirty || bad;
  $("https-revert").disabled = !dirty;
  if (dirty) flash($("https-status"), bad ? "Fix the port." : "Not applied yet.", bad);
}

function renderHttps() {
  const s = state.https;
  const pill = $("https-state");
  if (!s.enabled) {
    pill.textContent = "off";
    pill.className = "pill pill-muted";
  } else if (s.listening) {
    pill.textContent = `on · port ${s.port}`;
    pill.className = "pill pill-ok";
  } else {
    pill.textContent = "not running";
    pill.className = "pill pill-bad";
  }
  $("https-error").textContent = s.error ?? "";
  $("https-error").hidden = !s.error;
  const urls = s.listening ? s.urls : [];
  $("https-urls").replaceChildren(
    ...(urls.length > 0
      ? urls.map((u) => h("li", {}, u))
      : [h("li", { class: "muted" }, s.enabled ? "Not listening." : "HTTPS is off.")]),
  );
  const cert = s.page_certificate;
  $("https-fingerprint").textContent = cert
    ? cert.sha256
    : "— (made when HTTPS is first turned on)";
  $("https-expiry").textContent = cert
    ? `${new Date(cert.not_after).toLocaleDateString()} (renewed automatically)`
    : "—";
  const pending = s.pending_certificate;
  $("https-pending").textContent = pending
    ? `A renewed certificate (${pending.sha256}) is ready and will be used once no phone is connected.`
    : "";
  $("https-pending").hidden = !pending;
}

async function onSaveHttps(ev) {
  ev.preventDefault();
  const edits = httpsEdits();
  if (Object.keys(edits).length === 0) return;
  $("https-save").disabled = true;
  state.saving++;
  try {
    const r = await api("POST", "/https", edits);
    state.lastVersion = r.config_version;
    state.qrMode = null;
    await Promise.all([loadHttps(), loadQr()]);
    flash(
      $("https-status"),
      !r.enabled
        ? "HTTPS is off."
        : r.listening
        ? "HTTPS is on."
        : "Saved, but HTTPS is not running.",
      r.enabled && !r.listening,
    );
  } catch (e) {
    flash($("https-status"), e.message, true);
    httpsChanged();
  } finally {
    state.saving--;
  }
}

// ---------------------------------------------------------------- live feed

function setLiveState(text, cls) {
  const el = $("live-state");
  el.textContent = text;
  el.className = `pill ${cls}`;
}

function startLive() {
  state.liveWanted = true;
  if (state.live) return;
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}${API}/live`);
  state.live = ws;
  setLiveState("connecting…", "pill-muted");
  ws.addEventListener("open", () => setLiveState("live", "pill-ok"));
  ws.addEventListener("message", (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === "hello") {
      state.history = msg.history;
      drawCharts();
    } else if (msg.type === "snapshot") {
      onSnapshot(msg);
    }
  });
  ws.addEventListener("close", (ev) => {
    state.live = null;
    if (ev.code === SESSION_ENDED) return showLogin();
    if (!state.liveWanted) return;
    setLiveState("reconnecting…", "pill-warn");
    setTimeout(async () => {
      if (!state.liveWanted) return;
      try {
        const who = await api("GET", "/login");
        if (who.logged_in) startLive();
        else showLogin();
      } catch {
        setTimeout(startLive, RECONNECT_MS);
      }
    }, RECONNECT_MS);
  });
}

function stopLive() {
  state.liveWanted = false;
  state.live?.close();
  state.live = null;
}

function onSnapshot(msg) {
  const st = msg.status;
  renderStatus(st);
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

async function onConfigChangedElsewhere(version) {
  state.lastVersion = version;
  const dirty = Object.keys(settingsPatch()).length > 0 || channelsDirty();
  if (!dirty) {
    await Promise.all([loadConfig(), loadChannels(), loadHttps(), loadQr()]);
    return;
  }
  const notice = $("notice");
  notice.replaceChildren(
    h("span", {}, `The configuration changed elsewhere (version ${version}).`),
    h("button", {
      type: "button",
      class: "btn btn-small",
      onclick: async () => {
        notice.hidden = true;
        await Promise.all([loadConfig(), loadChannels()]);
      },
    }, "Discard my edits and reload"),
  );
  notice.hidden = false;
}

function renderStatus(st) {
  const src = st.source;
  const health = $("health");
  health.textContent = st.status === "ok" ? "healthy" : "degraded";
  health.className = `pill ${st.status === "ok" ? "pill-ok" : "pill-warn"}`;
  $("st-source").textContent = src.kind === "test"
    ? "test signal"
    : `ALSA ${src.description || ""}`;
  // The same state as /health: idle, starting, running or error.
  $("st-state").textContent = src.sink_errors > 0
    ? `${src.state} · ${fmtInt(src.sink_errors)} periods dropped (sink errors)`
    : src.state;
  $("st-streaming").textContent = fmtInt(st.streaming_clients);
  $("st-connected").textContent = fmtInt(st.connected_clients);
  $("st-packets").textContent = fmtInt(st.total_packets_sent);
  const lowered = st.lowered_clients ?? [];
  $("st-rate").textContent = fmtRate(st.sample_rate) +
    (lowered.length === 0
      ? ""
      : ` (lower for ${lowered.map((c) => `${c.address}: ${fmtRate(c.sample_rate)}`).join(", ")})`);
  $("st-cpu").textContent = `${st.cpu_pct.toFixed(1)} %`;
  $("st-uptime").textContent = fmtDuration(st.uptime_s);
  $("st-version").textContent = String(st.config_version);
  const err = $("st-error");
  err.textContent = src.error ? `Source error: ${src.error}` : "";
  err.hidden = !src.error;
  const ov = Object.entries(st.overrides);
  $("st-overrides").textContent = ov.length === 0
    ? ""
    : `Command-line overrides for this run: ${
      ov.map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(", ")
    }.`;
  $("st-overrides").hidden = ov.length === 0;
  const alsa = st.overrides["alsa.device"];
  $("alsa-override").textContent = alsa === undefined
    ? ""
    : `This run uses --alsa-device ${alsa}; the saved value applies from the next start.`;
  $("alsa-override").hidden = alsa === undefined;
}

function renderClients(clients, now) {
  $("clients-count").textContent = clients.length === 0
    ? ""
    : `${clients.length} connected · ${clients.filter((c) => c.streaming).length} streaming`;
  $("clients-empty").hidden = clients.length > 0;
  const rows = clients.map((c) => {
    const q = c.qos;
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
      h(
        "td",
        {},
        h("button", {
          type: "button",
          class: "btn btn-small btn-danger",
          "data-client": c.client_id,
          onclick: (ev) => disconnect(c.client_id, ev.target),
        }, "Disconnect"),
      ),
    );
  });
  $("clients-body").replaceChildren(...rows);
}

async function disconnect(id, button) {
  button.disabled = true;
  try {
    await api("DELETE", `/clients/${encodeURIComponent(id)}`);
  } catch (e) {
    button.disabled = false;
    button.title = e.message;
  }
}

function renderLog(lines) {
  const list = lines.slice(0, LOG_LINES).map((l) =>
    h(
      "li",
      { title: l.text },
      h("time", { datetime: l.time }, new Date(l.time).toLocaleTimeString("en-GB")),
      h("span", { class: `lvl ${l.level}` }, l.level),
      `${l.category}: ${l.message}`,
    )
  );
  $("log-list").replaceChildren(...list);
  $("log-empty").hidden = lines.length > 0;
}

// ---------------------------------------------------------------- charts

const CHARTS = [
  {
    id: "chart-loss",
    cls: "loss",
    title: "Packet loss",
    key: "loss_pct",
    unit: "%",
    min: 1,
    digits: 2,
  },
  {
    id: "chart-jitter",
    cls: "jitter",
    title: "Jitter",
    key: "jitter_ms",
    unit: "ms",
    min: 10,
    digits: 1,
  },
  {
    id: "chart-latency",
    cls: "latency",
    title: "Latency",
    key: "latency_ms",
    unit: "ms",
    min: 50,
    digits: 1,
  },
];
const CW = 320;
const CH = 120;
const PAD = { l: 34, r: 6, t: 8, b: 18 };

function niceMax(v) {
  const exp = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * exp >= v) return m * exp;
  return 10 * exp;
}

function fmtSpan(ms) {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${+(s / 60).toFixed(1)} min`;
}

function drawCharts(now = Date.now()) {
  const first = state.history[0]?.t ?? now;
  const win = Math.min(CHART_MAX_WINDOW_MS, Math.max(CHART_MIN_WINDOW_MS, now - first));
  $("h-charts").textContent = `Quality, last ${fmtSpan(win)}`;
  for (const c of CHARTS) drawChart(c, now, win);
}

function drawChart(c, now, win) {
  const fig = $(c.id);
  const pts = state.history.filter((p) => p[c.key] !== null);
  const latest = pts[pts.length - 1];
  const max = niceMax(Math.max(c.min, ...pts.map((p) => p[c.key])));
  const x0 = now - win;
  const X = (t) => PAD.l + ((t - x0) / win) * (CW - PAD.l - PAD.r);
  const Y = (v) => PAD.t + (1 - v / max) * (CH - PAD.t - PAD.b);
  const svg = s("svg", {
    viewBox: `0 0 ${CW} ${CH}`,
    role: "img",
    "aria-label": `${c.title} over the last ${fmtSpan(win)}`,
  });
  for (const f of [0, 0.5, 1]) {
    const y = Y(max * f);
    svg.append(s("line", { class: "grid", x1: PAD.l, x2: CW - PAD.r, y1: y, y2: y }));
    const label = s("text", { class: "axis-label", x: PAD.l - 4, y: y + 3, "text-anchor": "end" });
    label.textContent = `${+(max * f).toFixed(2)}`;
    svg.append(label);
  }
  for (const [part, anchor] of [[1, "start"], [0.5, "middle"], [0, "end"]]) {
    const t = s("text", {
      class: "axis-label",
      x: X(now - part * win),
      y: CH - 4,
      "text-anchor": anchor,
    });
    t.textContent = part === 0 ? "now" : `−${fmtSpan(part * win)}`;
    svg.append(t);
  }
  // Break the line where a sample has no data (nobody reporting).
  let d = "";
  let area = "";
  let run = [];
  const flush = () => {
    if (run.length === 0) return;
    const line = run.map((p, i) => `${i ? "L" : "M"}${X(p.t).toFixed(1)},${Y(p[c.key]).toFixed(1)}`)
      .join("");
    d += line;
    area += `${line}L${X(run[run.length - 1].t).toFixed(1)},${Y(0)}L${X(run[0].t).toFixed(1)},${
      Y(0)
    }Z`;
    run = [];
  };
  for (const p of state.history) {
    if (p.t < x0) continue;
    if (p[c.key] === null) flush();
    else run.push(p);
  }
  flush();
  if (area) svg.append(s("path", { class: "area", d: area }));
  if (d) svg.append(s("path", { class: "line", d }));
  const value = latest ? `${latest[c.key].toFixed(c.digits)} ${c.unit}` : "no data";
  fig.className = `chart ${c.cls}`;
  fig.dataset.points = String(pts.length);
  fig.replaceChildren(h("figcaption", {}, h("span", {}, c.title), h("strong", {}, value)), svg);
}

// ---------------------------------------------------------------- message, password

async function onMessage(ev) {
  ev.preventDefault();
  const text = $("message-text").value.trim();
  if (!text) return;
  try {
    const r = await api("POST", "/message", { text });
    flash($("message-status"), `Sent to ${r.clients} client${r.clients === 1 ? "" : "s"}.`);
    $("message-text").value = "";
  } catch (e) {
    flash($("message-status"), e.message, true);
  }
}

async function onPassword(ev) {
  ev.preventDefault();
  const status = $("password-status");
  const next = $("pw-new").value;
  if (next !== $("pw-repeat").value) return flash(status, "The new passwords differ.", true);
  try {
    await api("POST", "/password", { current: $("pw-current").value, new: next });
    ev.target.reset();
    flash(status, "Password changed. Other browsers are logged out.");
  } catch (e) {
    flash(status, e.status === 401 ? "The current password is wrong." : e.message, true);
  }
}

// ---------------------------------------------------------------- start

function wire() {
  $("login-form").addEventListener("submit", onLogin);
  $("logout").addEventListener("click", onLogout);
  const form = $("settings-form");
  form.addEventListener("input", settingsChanged);
  form.addEventListener("change", settingsChanged);
  form.addEventListener("submit", onSaveSettings);
  $("settings-revert").addEventListener("click", () => {
    loadConfig();
    flash($("settings-status"), "");
  });
  $("channels-save").addEventListener("click", onSaveChannels);
  $("channels-revert").addEventListener("click", () => {
    loadChannels();
    flash($("channels-status"), "");
  });
  $("ch-all").addEventListener("click", () => setAll(true));
  $("ch-none").addEventListener("click", () => setAll(false));
  $("ch-sort").addEventListener("click", sortById);
  $("message-form").addEventListener("submit", onMessage);
  const httpsForm = $("https-form");
  httpsForm.addEventListener("input", httpsChanged);
  httpsForm.addEventListener("change", httpsChanged);
  httpsForm.addEventListener("submit", onSaveHttps);
  $("https-revert").addEventListener("click", () => {
    loadHttps();
    flash($("https-status"), "");
  });
  $("qr-show-https").addEventListener("click", () => {
    state.qrMode = "https";
    renderQr();
  });
  $("qr-show-http").addEventListener("click", () => {
    state.qrMode = "http";
    renderQr();
  });
  $("password-form").addEventListener("submit", onPassword);
  globalThis.addEventListener("beforeunload", (ev) => {
    if (!$("app-view").hidden && (channelsDirty() || Object.keys(settingsPatch()).length > 0)) {
      ev.preventDefault();
    }
  });
}

async function init() {
  wire();
  let who = { logged_in: false };
  try {
    who = await api("GET", "/login");
  } catch {
    // the server is unreachable; the login form says so on submit
  }
  if (!who.logged_in) return showLogin();
  await showApp();
}

init();
