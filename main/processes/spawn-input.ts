import { invalid } from "../shared/errors.js";
import { LIMITS } from "../shared/limits.js";

/**
 * Refuses, before anything is spawned, what the kernel or Node would refuse only at
 * spawn time: a NUL in the command, an argument or the environment, an environment name
 * with "=", and arguments over Linux's size limits. Every front door (process API,
 * desktop launch and open) checks here, so a bad request is a 400 and leaves nothing behind.
 */
export function checkSpawnInput(command: string, args: readonly string[] = [], env: Record<string, string> = {}): void {
  const what = (s: string) => (s.length > 40 ? `${JSON.stringify(s.slice(0, 40))}...` : JSON.stringify(s));
  if (command.includes("\0")) throw invalid(`command must not contain a NUL character`);
  let total = Buffer.byteLength(command) + 1;
  args.forEach((arg, i) => {
    if (typeof arg !== "string") throw invalid(`args[${i}] must be a string`);
    if (arg.includes("\0")) throw invalid(`args[${i}] must not contain a NUL character`);
    const bytes = Buffer.byteLength(arg);
    if (bytes > LIMITS.spawnArgumentBytes.max) throw invalid(`args[${i}] is ${bytes} bytes; one argument may be at most ${LIMITS.spawnArgumentBytes.max}`);
    total += bytes + 1;
  });
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== "string") throw invalid(`env ${what(name)} must be a string`);
    if (!name || name.includes("\0") || name.includes("=")) throw invalid(`env name ${what(name)} must be non-empty, without "=" or a NUL character`);
    if (value.includes("\0")) throw invalid(`env ${what(name)} must not contain a NUL character`);
    const bytes = Buffer.byteLength(name) + 1 + Buffer.byteLength(value);
    if (bytes > LIMITS.spawnArgumentBytes.max) throw invalid(`env ${what(name)} is ${bytes} bytes; one entry may be at most ${LIMITS.spawnArgumentBytes.max}`);
    total += bytes + 1;
  }
  if (total > LIMITS.spawnTotalBytes.max) throw invalid(`arguments and environment are ${total} bytes together; at most ${LIMITS.spawnTotalBytes.max}`);
}
