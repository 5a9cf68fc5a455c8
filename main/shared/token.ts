import { createHash, timingSafeEqual } from "node:crypto";

/** Hash first, so the constant-time compare works on equal lengths and leaks no length. */
export function tokenDigest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

/** Whether `presented` is the token whose digest is `expected`, in constant time. */
export function tokenMatches(presented: string, expected: Buffer): boolean {
  return timingSafeEqual(tokenDigest(presented), expected);
}
