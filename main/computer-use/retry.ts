import { setTimeout as sleep } from "node:timers/promises";

/** Whether a model API error is worth another try: 408/409/429, any 5xx, or no HTTP answer at all. */
export function retryable(err: unknown): boolean {
  const status = (err as { status?: unknown }).status;
  if (typeof status === "number") return status === 408 || status === 409 || status === 429 || status >= 500;
  const name = (err as Error)?.name ?? "";
  return name === "APIConnectionError" || name === "APIConnectionTimeoutError" || name === "FetchError";
}

/** A short, clear description of a model API failure. */
export function describe(err: unknown): string {
  const e = err as { status?: number; message?: string; error?: { error?: { message?: string }; message?: string } };
  const detail = e.error?.error?.message ?? e.error?.message ?? e.message ?? String(err);
  return e.status ? `HTTP ${e.status}: ${detail}` : detail;
}

/**
 * Runs `attempt` with exponential backoff (base, 2x base, 4x base ... plus up to 25 %
 * jitter, or the server's retry-after when it is shorter than a minute) on retryable
 * errors, at most `retries` extra times; `onRetry` sees every failed attempt.
 */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  opts: { retries: number; baseMs: number; signal: AbortSignal; onRetry(err: unknown, attempt: number, waitMs: number): void },
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (opts.signal.aborted || n >= opts.retries || !retryable(err)) throw err;
      const after = Number((err as { headers?: Headers }).headers?.get?.("retry-after"));
      const backoff = opts.baseMs * 2 ** n * (1 + Math.random() * 0.25);
      const waitMs = Math.round(Number.isFinite(after) && after > 0 && after < 60 ? Math.min(after * 1000, backoff * 4) : backoff);
      opts.onRetry(err, n + 1, waitMs);
      await sleep(waitMs, undefined, { signal: opts.signal }).catch(() => undefined);
      if (opts.signal.aborted) throw err;
    }
  }
}
