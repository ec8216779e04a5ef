/**
 * What the HTTPS listener reports about itself (`ctx.https.status()`): owned
 * by the TLS service (./https_service.ts); the admin API shows it
 * (src/admin/api_types.ts re-exports these types for the admin page).
 */

/** A certificate as the HTTPS card shows it. */
export interface CertInfo {
  /** SHA-256 of the DER certificate, "AB:CD:…" as browsers show it. */
  sha256: string;
  not_before: string;
  not_after: string;
  dns_names: string[];
  ip_addresses: string[];
}

/** The secure listener page's state. */
export interface HttpsStatus {
  /** The stored setting. */
  enabled: boolean;
  /** The configured port. */
  port: number;
  /** Whether the HTTPS listener is up (false while off, or when it could not start). */
  listening: boolean;
  /** The port it is up on (differs from `port` only while a move to `port` failed), else null. */
  listening_port: number | null;
  /** Why it is not listening although enabled (e.g. the port is taken), else null. */
  error: string | null;
  /** The page certificate phones see; null until HTTPS was first turned on. */
  page_certificate: CertInfo | null;
  /** A renewed page certificate waiting for no client to be connected before it is served. */
  pending_certificate: CertInfo | null;
}
