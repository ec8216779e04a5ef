/**
 * How the mixer's values read: shown beside a fader (compact, fixed width)
 * and spoken by a screen reader through `aria-valuetext` (words a person
 * would say). Linear gain is shown in dB; below OFF_GAIN it is off.
 *
 *   value         shown      spoken
 *   gain 0.5      −6.0 dB    −6 dB
 *   gain 0        −∞         off
 *   pan −0.2      L20        L 20
 *   pan 0         C          centre
 *   EQ +2.5       +2.5 dB    +2.5 dB
 *
 * The words are the page language's (web/i18n: "off" / "꺼짐", "centre" /
 * "가운데", "L 20" / "왼쪽 20"); the figures read the same in every language.
 */

import { t } from "../i18n/i18n.ts";

/** Gains at or below this (−66 dB) are shown as off. */
const OFF_GAIN = 0.0005;
/** Below this magnitude a dB figure or a pan position reads as zero / centre. */
const DB_ZERO = 0.05;
const PAN_CENTRE = 0.01;
const PAN_PERCENT = 100;
const MINUS = "\u2212";

function signed(db: number, digits: number): string {
  const sign = db > DB_ZERO ? "+" : db < -DB_ZERO ? MINUS : "";
  return `${sign}${(sign === "" ? 0 : Math.abs(db)).toFixed(digits)}`;
}

function gainDb(v: number): number {
  return 20 * Math.log10(v);
}

export function volumeLabel(v: number): string {
  return v <= OFF_GAIN ? `${MINUS}∞` : `${signed(gainDb(v), 1)} dB`;
}

export function volumeText(v: number): string {
  return v <= OFF_GAIN ? t("l_off") : dbText(gainDb(v));
}

export function panLabel(p: number): string {
  if (Math.abs(p) < PAN_CENTRE) return t("l_pan_c");
  return t(p < 0 ? "l_pan_l" : "l_pan_r", { n: Math.round(Math.abs(p) * PAN_PERCENT) });
}

export function panText(p: number): string {
  if (Math.abs(p) < PAN_CENTRE) return t("l_pan_centre");
  return t(p < 0 ? "l_pan_left" : "l_pan_right", { n: Math.round(Math.abs(p) * PAN_PERCENT) });
}

export function eqLabel(db: number): string {
  return `${signed(db, 1)} dB`;
}

/** A dB figure to one decimal, without a trailing ".0": "−6 dB", "+2.5 dB", "0 dB". */
export function dbText(db: number): string {
  if (Math.abs(db) < DB_ZERO) return "0 dB";
  const rounded = Math.round(Math.abs(db) * 10) / 10;
  return `${db > 0 ? "+" : MINUS}${rounded} dB`;
}
