import WebSocket from "ws";
import { GlasspaneError } from "../shared/errors.js";
import type { BrowserTarget, BrowserVersion } from "./types.js";

const HTTP_TIMEOUT_MS = 5000;

/**
 * The browser's own DevTools HTTP endpoints on 127.0.0.1 (Node's fetch sends a loopback
 * Host, the only one Chromium answers), each with a deadline.
 */
export async function devtoolsJson<T>(port: number, path: string, ms = HTTP_TIMEOUT_MS): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(ms) });
  } catch (err) {
    const e = err as Error;
    const reason = e.name === "TimeoutError" ? `no answer within ${ms} ms` : (e.cause as Error | undefined)?.message ?? e.message;
    throw new GlasspaneError("browser_unreachable", 502, `the browser's DevTools endpoint ${path} did not answer: ${reason}`);
  }
  if (!res.ok) throw new GlasspaneError("browser_unreachable", 502, `the browser's DevTools endpoint ${path} answered ${res.status}`);
  return (await res.json()) as T;
}

/** Chromium's /json/version document. */
export type VersionDocument = Record<string, unknown> & { Browser?: string; "Protocol-Version"?: string; "User-Agent"?: string; "V8-Version"?: string };

export function versionOf(doc: VersionDocument): BrowserVersion {
  return {
    browser: String(doc.Browser ?? ""),
    protocolVersion: String(doc["Protocol-Version"] ?? ""),
    userAgent: String(doc["User-Agent"] ?? ""),
    v8Version: doc["V8-Version"] ? String(doc["V8-Version"]) : null,
  };
}

export function targetOf(doc: Record<string, unknown>): BrowserTarget {
  return { id: String(doc.id ?? ""), type: String(doc.type ?? ""), title: String(doc.title ?? ""), url: String(doc.url ?? "") };
}

/**
 * A discovery document with its DevTools URLs pointing back through Glasspane: the
 * WebSocket of target `/devtools/<kind>/<id>` becomes `<wsOrigin><prefix>/devtools/<kind>/<id>`.
 * The DevTools front-end link is dropped (it names the loopback port, which no client can reach).
 */
export function rewriteTarget(doc: Record<string, unknown>, wsOrigin: string, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...doc };
  delete out.devtoolsFrontendUrl;
  delete out.devtoolsFrontendUrlCompat;
  const ws = doc.webSocketDebuggerUrl;
  if (typeof ws === "string") {
    const at = ws.indexOf("/devtools/");
    if (at >= 0) out.webSocketDebuggerUrl = `${wsOrigin}${prefix}${ws.slice(at)}`;
  }
  return out;
}

/**
 * Asks the browser to quit (CDP Browser.close): it flushes its profile (cookies, local
 * storage) and ends its helpers itself, which a signal to the whole group would cut short.
 * Resolves once asked, or after `ms` when the socket does not open; never rejects.
 */
export function requestBrowserClose(port: number, browserPath: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${browserPath}`, { perMessageDeflate: false, handshakeTimeout: ms });
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      ws.terminate();
      resolve();
    }
    ws.once("open", () => ws.send(JSON.stringify({ id: 1, method: "Browser.close" })));
    ws.once("message", done);
    ws.once("close", done);
    ws.once("error", done);
  });
}
