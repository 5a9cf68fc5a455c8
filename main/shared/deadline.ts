import { GlasspaneError } from "./errors.js";

/** Rejects with a 504 `timeout` problem when `promise` has not settled within `ms`. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new GlasspaneError("timeout", 504, `${what} did not finish within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value other than undefined, or gives up after `ms`. */
export async function pollUntil<T>(check: () => Promise<T | undefined>, ms: number, everyMs = 20): Promise<T | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= end) return undefined;
    await sleep(everyMs);
  }
}
