// The connection to the runtime: server URL and token (kept for the tab), and the one
// place that calls the API. The page uses only the HTTP and WebSocket API every client uses.

export interface Connection {
  server: string;
  token: string;
}

declare global {
  interface Window {
    /** set by the Electron preload: the in-process runtime's URL and token */
    glasspane?: { server: string; token: string };
  }
}

const KEY = "glasspane.connection";

/** The Electron preload's details, then ?server=&token= in the address, then what the tab kept, then this origin. */
export function initialConnection(): Connection {
  if (window.glasspane) return { ...window.glasspane };
  const params = new URLSearchParams(location.search);
  const kept = sessionStorage.getItem(KEY);
  const saved: Partial<Connection> = kept ? JSON.parse(kept) : {};
  return {
    server: params.get("server") ?? saved.server ?? location.origin,
    token: params.get("token") ?? saved.token ?? "",
  };
}

export function keepConnection(c: Connection): void {
  sessionStorage.setItem(KEY, JSON.stringify(c));
}

/** An RFC 7807 problem from the runtime, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class Api {
  constructor(readonly conn: Connection) {}

  url(path: string, withToken = false): string {
    const u = new URL(path, this.conn.server.replace(/\/?$/, "/"));
    if (withToken && this.conn.token) u.searchParams.set("access_token", this.conn.token);
    return u.toString();
  }

  wsUrl(path: string): string {
    return this.url(path, true).replace(/^http/, "ws");
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.conn.token ? { Authorization: `Bearer ${this.conn.token}`, ...extra } : extra;
  }

  async raw(path: string, init: RequestInit = {}, timeoutMs = 30_000): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(this.url(path), { ...init, headers: this.headers(init.headers as Record<string, string>), signal: init.signal ?? AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new ApiError(0, "unreachable", `the server at ${this.conn.server} does not answer (${(err as Error).message})`);
    }
    if (!res.ok) {
      const p = await res.json().catch(() => ({}));
      throw new ApiError(res.status, p.code ?? `http_${res.status}`, p.detail ?? p.title ?? `HTTP ${res.status}`, p);
    }
    return res;
  }

  async get<T>(path: string): Promise<T> {
    return (await this.raw(path)).json() as Promise<T>;
  }

  async post<T>(path: string, body: unknown = {}, timeoutMs?: number): Promise<T> {
    const res = await this.raw(path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } }, timeoutMs);
    // 202 (an accepted notification or response) and 204 carry no body
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async del(path: string): Promise<void> {
    await this.raw(path, { method: "DELETE" });
  }

  /** Reads a text/event-stream (fetch, so the token goes in a header) until `signal` aborts or it ends. */
  async events(path: string, onEvent: (event: string, data: string) => void, signal: AbortSignal, headers: Record<string, string> = {}): Promise<void> {
    const res = await this.raw(path, { signal, headers });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let cut: number;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
        }
        if (data.length) onEvent(event, data.join("\n"));
      }
    }
  }
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) (v /= 1024), i++;
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
