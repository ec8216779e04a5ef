/**
 * The PTP clock as a running ptp4l (linuxptp) reports it, read with `pmc`
 * over ptp4l's local management socket:
 *
 *   pmc -u -b 0 'GET DEFAULT_DATA_SET' 'GET PARENT_DATA_SET'
 *              'GET TIME_PROPERTIES_DATA_SET' 'GET PORT_DATA_SET'
 *
 * PTP time is defined when a port is SLAVE (locked to a grandmaster) or
 * MASTER with this clock as the grandmaster. ptp4l with software
 * timestamps (or phc2sys beside it) keeps CLOCK_REALTIME on PTP time as UTC,
 * so PTP time = CLOCK_REALTIME + currentUtcOffset (TAI − UTC). No ptp4l, no
 * answer, or a port in any other state: the system clock.
 */

export interface PtpState {
  /** EUI-64 as AES67 SDPs write it: "00-1D-C1-FF-FE-12-34-56". */
  grandmaster: string;
  domain: number;
  utcOffsetS: number;
  portState: string;
  /** This clock's own identity (when it is the grandmaster, the two are equal). */
  clockIdentity: string;
}

/** "001dc1.fffe.123456" → "00-1D-C1-FF-FE-12-34-56". */
export function eui64Text(pmcIdentity: string): string {
  const hex = pmcIdentity.replaceAll(".", "").toUpperCase();
  if (!/^[0-9A-F]{16}$/.test(hex)) throw new Error(`not a clock identity: ${pmcIdentity}`);
  return hex.match(/../g)!.join("-");
}

function field(text: string, name: string): string | null {
  const m = new RegExp(`^\\s*${name}\\s+(\\S+)`, "m").exec(text);
  return m ? m[1] : null;
}

/** The PTP state in pmc's answer, or null when PTP time is not defined. */
export function parsePmc(text: string): PtpState | null {
  const gm = field(text, "grandmasterIdentity");
  const self = field(text, "clockIdentity");
  const domain = field(text, "domainNumber");
  const offset = field(text, "currentUtcOffset");
  const states = [...text.matchAll(/^\s*portState\s+(\S+)/gm)].map((m) => m[1]);
  if (!gm || !self || domain === null || offset === null || states.length === 0) return null;
  const locked = states.includes("SLAVE")
    ? "SLAVE"
    : states.includes("MASTER") && gm === self
    ? "MASTER"
    : null;
  if (!locked) return null;
  return {
    grandmaster: eui64Text(gm),
    domain: Number(domain),
    utcOffsetS: Number(offset),
    portState: locked,
    clockIdentity: eui64Text(self),
  };
}

export const PMC_ARGS = [
  "-u",
  "-b",
  "0",
  "GET DEFAULT_DATA_SET",
  "GET PARENT_DATA_SET",
  "GET TIME_PROPERTIES_DATA_SET",
  "GET PORT_DATA_SET",
];

/**
 * pmc's extra arguments: `-s <path>` when ptp4l's management socket is not the
 * default /var/run/ptp4l (env M32_PTP_UDS, e.g. a ptp4l started with
 * `uds_address`; tests run one per network namespace).
 */
export function pmcSocketArgs(env = Deno.env.get("M32_PTP_UDS")): string[] {
  return env ? ["-s", env] : [];
}

/** Runs pmc once (2 s at most); null when it is missing, fails or ptp4l is not locked. */
export async function readPtp(
  pmc = "pmc",
  extraArgs: string[] = pmcSocketArgs(),
): Promise<PtpState | null> {
  try {
    const child = new Deno.Command(pmc, {
      args: [...extraArgs, ...PMC_ARGS],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already ended
      }
    }, 2000);
    const out = await child.output();
    clearTimeout(timer);
    return parsePmc(new TextDecoder().decode(out.stdout));
  } catch {
    return null;
  }
}

/** A state file older than this says nothing (whatever wrote it has stopped). */
export const PTP_STATE_MAX_AGE_MS = 30_000;

/**
 * pmc's answer as a root job wrote it to `path` (env M32_PTP_STATE_FILE; for
 * the installed service, whose dynamic user cannot run pmc: docs/aes67.md);
 * null when the file is missing, stale or not locked.
 */
export async function readPtpStateFile(
  path: string,
  now = Date.now(),
): Promise<PtpState | null> {
  try {
    const st = await Deno.stat(path);
    if (!st.mtime || now - st.mtime.getTime() > PTP_STATE_MAX_AGE_MS) return null;
    return parsePmc(await Deno.readTextFile(path));
  } catch {
    return null;
  }
}

/** The clock source the server uses: the state file when one is configured, else pmc. */
export function defaultPtpReader(
  env = Deno.env.get("M32_PTP_STATE_FILE"),
): () => Promise<PtpState | null> {
  return env ? () => readPtpStateFile(env) : () => readPtp();
}
