/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The AES67 input card: the SAP sessions the box hears
 * (GET /api/admin/aes67/sessions, refreshed every 5 s), one of them chosen —
 * a sender's name (all its streams `name 1`, `name 2`…), one stream's `s=`
 * line, or an SDP file path typed in — and the input turned on or off
 * (PATCH /api/admin/config `aes67.input`). A change the source depends on
 * (on/off, or the session while it is the source: src/config/wire.ts)
 * reopens the source: the phones hear a gap and keep their sessions, so the
 * save asks first when phones are streaming (./confirm.ts). The source's state and its error (a stream that
 * vanished) come from each live snapshot (renderAes67Source).
 */
import type {
  Aes67SessionView,
  Config,
  SaveAnswer,
  StatusView,
} from "../../src/admin/api_types.ts";
import { aes67InputSignature } from "../../src/config/wire.ts";
import { api } from "./api.ts";
import { confirmRestart } from "./confirm.ts";
import { $, $button, $form, $input, flash, h, messageOf } from "./dom.ts";
import { fmtAgo } from "./format.ts";
import { state } from "./state.ts";
import { type MessageKey, t } from "../i18n/i18n.ts";

type Input = Config["aes67"]["input"];

interface SessionsAnswer {
  listening: boolean;
  error: string;
  sessions: Aes67SessionView[];
}

let stored: Input | null = null;
let heard: SessionsAnswer | null = null;
let source: StatusView["source"] | null = null;
let timer: ReturnType<typeof setInterval> | null = null;

export async function loadAes67Input(): Promise<void> {
  const [cfg, s] = await Promise.all([
    api<Config>("GET", "/config"),
    api<SessionsAnswer>("GET", "/aes67/sessions"),
  ]);
  stored = cfg.aes67.input;
  heard = s;
  $input("aes67-in-enabled").checked = stored.enabled;
  $input("aes67-in-session").value = stored.session;
  renderAes67Input();
  inputChanged();
  if (timer === null) timer = setInterval(refresh, 5000);
}

async function refresh(): Promise<void> {
  if ($("app-view").hidden) return;
  try {
    heard = await api<SessionsAnswer>("GET", "/aes67/sessions");
    renderAes67Input();
  } catch {
    // the live feed and the overview say when the server is gone
  }
}

/** A choice in the list: what `input.session` becomes, and what the admin reads. */
interface Choice {
  value: string;
  title: string;
  detail: string;
  /** One of the streams listed under its sender. */
  child: boolean;
}

/** Senders (streams `name k` from one origin, two or more) first, each followed by its streams. */
function choices(list: Aes67SessionView[], now: number): Choice[] {
  const out: Choice[] = [];
  const senders = new Map<string, { name: string; streams: Aes67SessionView[] }>();
  const single: Aes67SessionView[] = [];
  for (const s of list) {
    const m = /^(.*) (\d{1,4})$/.exec(s.name);
    if (!m) {
      single.push(s);
      continue;
    }
    const key = `${m[1]}\n${s.origin}`;
    const g = senders.get(key) ?? { name: m[1], streams: [] };
    g.streams.push(s);
    senders.set(key, g);
  }
  const detail = (s: Aes67SessionView) =>
    t("a_aes67_in_detail", {
      groups: s.groups.join(", "),
      n: s.channels,
      ptime: s.ptime_ms === null ? "—" : `${s.ptime_ms} ms`,
      origin: s.origin,
      clock: s.clock || "—",
      heard: fmtAgo(s.last_heard, now),
    });
  const stream = (s: Aes67SessionView, child = false): Choice => ({
    value: s.name,
    title: s.name,
    detail: detail(s),
    child,
  });
  for (const g of senders.values()) {
    const k = (s: Aes67SessionView) => Number(/(\d+)$/.exec(s.name)![1]);
    g.streams.sort((a, b) => k(a) - k(b));
    if (g.streams.length > 1) {
      out.push({
        value: g.name,
        title: t("a_aes67_in_sender", { name: g.name, n: g.streams.length }),
        detail: t("a_aes67_in_sender_detail", {
          n: g.streams.reduce((n, s) => n + s.channels, 0),
          origin: g.streams[0].origin,
        }),
        child: false,
      });
    }
    out.push(...g.streams.map((s) => stream(s, g.streams.length > 1)));
  }
  out.push(...single.map((s) => stream(s)));
  return out;
}

const SOURCE_STATE: Record<string, MessageKey> = {
  idle: "a_src_idle",
  starting: "a_src_starting",
  running: "a_src_running",
  error: "a_src_error",
};

export function renderAes67Input(): void {
  const a = heard;
  if (!a) return;
  const chosen = $input("aes67-in-session").value.trim();
  const list = choices(a.sessions, Date.now());
  const items = list.map((c, i) =>
    h(
      "label",
      { class: c.child ? "aes67-pick aes67-pick-child" : "aes67-pick" },
      h("input", {
        type: "radio",
        name: "aes67-in-pick",
        value: c.value,
        id: `aes67-in-pick-${i}`,
        checked: c.value === chosen,
      }),
      h("span", {}, h("strong", {}, c.title), h("span", { class: "muted small" }, c.detail)),
    )
  );
  const empty = !a.listening
    ? t("a_aes67_in_not_listening", { error: a.error })
    : t("a_aes67_in_none");
  $("aes67-in-list").replaceChildren(
    ...(items.length > 0 ? items : [h("p", { class: "muted small" }, empty)]),
  );
  renderAes67Source(source);
}

/** The source's state, from a live snapshot's `status.source` (null: none yet). */
export function renderAes67Source(src: StatusView["source"] | null): void {
  source = src;
  const pill = $("aes67-in-state");
  const on = stored?.enabled ?? false;
  const err = $("aes67-in-error");
  if (!on || !src || src.kind !== "aes67") {
    pill.textContent = t("a_aes67_pill_off");
    pill.className = "pill pill-muted";
    err.hidden = true;
    return;
  }
  const word = SOURCE_STATE[src.state] ? t(SOURCE_STATE[src.state]) : src.state;
  pill.textContent = t("a_aes67_in_pill", { state: word });
  pill.className = `pill ${
    src.state === "running" ? "pill-ok" : src.state === "error" ? "pill-bad" : "pill-warn"
  }`;
  err.textContent = src.error ? t("a_source_error", { error: src.error }) : "";
  err.hidden = !src.error;
}

function edits(): Partial<Input> {
  const s = stored;
  if (!s) return {};
  const next: Input = {
    enabled: $input("aes67-in-enabled").checked,
    session: $input("aes67-in-session").value.trim(),
  };
  const out: Partial<Input> = {};
  if (next.enabled !== s.enabled) out.enabled = next.enabled;
  if (next.session !== s.session) out.session = next.session;
  return out;
}

function inputChanged(): void {
  const e = edits();
  const dirty = Object.keys(e).length > 0;
  // On with no session chosen: nothing to take the audio from.
  const none = $input("aes67-in-enabled").checked &&
    $input("aes67-in-session").value.trim() === "";
  $button("aes67-in-save").disabled = !dirty || none;
  $button("aes67-in-revert").disabled = !dirty;
  if (none) flash($("aes67-in-status"), () => t("a_aes67_in_pick_one"), true);
  else if (dirty) flash($("aes67-in-status"), () => t("a_not_applied"));
  else flash($("aes67-in-status"), "");
}

/** A radio picked: its value becomes the session field. */
function onPick(ev: Event): void {
  const el = ev.target;
  if (!(el instanceof HTMLInputElement) || el.name !== "aes67-in-pick") return;
  $input("aes67-in-session").value = el.value;
  inputChanged();
}

/** The session field typed in: the radio with that value (if any) is the one checked. */
function onType(): void {
  const v = $input("aes67-in-session").value.trim();
  for (const r of $("aes67-in-list").querySelectorAll<HTMLInputElement>("input[type=radio]")) {
    r.checked = r.value === v;
  }
}

async function onSave(ev: Event): Promise<void> {
  ev.preventDefault();
  const input = edits();
  const before = stored;
  if (!before || Object.keys(input).length === 0) return;
  $button("aes67-in-save").disabled = true;
  state.saving++;
  try {
    // A change the source depends on reopens it (src/config/wire.ts): the phones hear a gap.
    const viaCli = source?.mode === "aes67";
    const next = { ...before, ...input };
    const reopens = aes67InputSignature(before, viaCli) !== aes67InputSignature(next, viaCli);
    if (reopens && !(await confirmRestart("a_what_aes67_input", "a_confirm_source"))) {
      inputChanged();
      flash($("aes67-in-status"), () => t("a_not_saved"));
      return;
    }
    const r = await api<SaveAnswer>("PATCH", "/config", { aes67: { input } });
    state.lastVersion = r.config_version;
    await loadAes67Input();
    flash($("aes67-in-status"), () => t(reopens ? "a_aes67_in_saved" : "a_aes67_in_stored"));
  } catch (e) {
    flash($("aes67-in-status"), () => messageOf(e), true);
    inputChanged();
  } finally {
    state.saving--;
  }
}

export function wireAes67Input(): void {
  const form = $form("aes67-in-form");
  form.addEventListener("change", onPick);
  form.addEventListener("input", (ev) => {
    if (ev.target === $input("aes67-in-session")) onType();
    inputChanged();
  });
  form.addEventListener("change", inputChanged);
  form.addEventListener("submit", onSave);
  $button("aes67-in-revert").addEventListener("click", () => {
    if (stored) {
      $input("aes67-in-enabled").checked = stored.enabled;
      $input("aes67-in-session").value = stored.session;
    }
    onType();
    inputChanged();
  });
}
