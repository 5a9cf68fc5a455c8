import { isIP } from "node:net";

/**
 * Who may talk to the server from a browser. DNS rebinding is stopped by the Host check
 * (a page on evil.example that rebinds its name to 127.0.0.1 still sends `Host:
 * evil.example`); cross-site requests by the Origin check on everything that changes state.
 */
export interface GuardOptions {
  /** the address the server listens on */
  host?: string;
  /** extra names the server answers to (`--allowed-host`); "*" allows any */
  allowedHosts?: string[];
  /** origins allowed besides the server's own (`--cors-allow-origin`); "*" allows any */
  corsAllowOrigins?: string[];
}

/** The host name of a Host header, lower case, without port or IPv6 brackets. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(1, h.indexOf("]") > 0 ? h.indexOf("]") : undefined);
  const colon = h.lastIndexOf(":");
  return colon >= 0 ? h.slice(0, colon) : h;
}

/** Loopback names, IP literals (no rebinding through them), the bind address and the configured names. */
export function hostAllowed(header: string | undefined, o: GuardOptions): boolean {
  if (!header) return false;
  const name = hostName(header);
  if (name === "" ) return false;
  if (isIP(name) !== 0) return true;
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (o.host && name === o.host.toLowerCase()) return true;
  return (o.allowedHosts ?? []).some((a) => a === "*" || a.toLowerCase() === name);
}

/** No Origin (not a browser, or a same-origin GET) is fine; otherwise the server's own origin or a listed one. */
export function originAllowed(origin: string | undefined, hostHeader: string | undefined, o: GuardOptions): boolean {
  if (origin === undefined) return true;
  const allowed = o.corsAllowOrigins ?? [];
  if (allowed.includes("*") || allowed.includes(origin)) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" (sandboxed frames, file://) and garbage
  }
  return (url.protocol === "http:" || url.protocol === "https:") && hostHeader !== undefined && url.host === hostHeader.toLowerCase();
}
