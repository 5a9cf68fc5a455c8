import type { StepResponse } from "../actions/types.js";

/** What a step request looks like on the wire: one of the action endpoint's dialects. */
export type StepBody = Record<string, unknown> & { dialect: "anthropic" | "openai" | "native" };

export interface WindowSummary {
  id: string;
  title: string;
  isActive: boolean;
}

/**
 * The runtime's HTTP API as the computer-use agent uses it. Every action goes through
 * `POST /v1/desktop/actions` (the one executor, its dialect adapters and its ready
 * replies); the agent never drives the display itself.
 */
export class GlasspaneClient {
  constructor(
    private readonly base: string,
    private readonly token: string | undefined,
    private readonly timeoutMs = 120_000,
  ) {}

  step(body: StepBody, signal?: AbortSignal): Promise<StepResponse> {
    return this.call("POST", "/v1/desktop/actions", body, signal);
  }

  async focusedWindow(): Promise<WindowSummary | undefined> {
    try {
      return await this.call("GET", "/v1/desktop/windows/focused");
    } catch {
      return undefined; // no focused window (404) is "not a terminal"
    }
  }

  async displaySize(): Promise<{ width: number; height: number }> {
    const status = await this.call<{ state: string; resolution?: { width: number; height: number } | null }>("GET", "/v1/desktop/status");
    if (status.state !== "active" || !status.resolution) throw new Error(`the desktop is ${status.state}; start it first (POST /v1/desktop/start)`);
    return status.resolution;
  }

  launch(app: string, args: string[]): Promise<{ processId: string; pid: number | null; windowId: string | null }> {
    return this.call("POST", "/v1/desktop/launch", { app, args, wait: true });
  }

  startRecording(): Promise<{ id: string; startedAt: string }> {
    return this.call("POST", "/v1/desktop/recording/start", {});
  }

  stopRecording(): Promise<{ id: string; endedAt?: string | null }> {
    return this.call("POST", "/v1/desktop/recording/stop", {});
  }

  private async call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const res = await fetch(this.base + path, {
      method,
      headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await res.text();
    if (!res.ok) {
      let detail = text;
      try {
        detail = (JSON.parse(text) as { detail?: string }).detail ?? text;
      } catch {
        // not problem+json
      }
      throw new Error(`${method} ${path}: ${res.status} ${detail}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
