/** A mistake on the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

export function toInt(text: string, name: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be an integer from ${min} to ${max} (got "${text}")`);
  return n;
}
