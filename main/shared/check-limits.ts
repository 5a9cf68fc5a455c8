import { invalid } from "./errors.js";

/**
 * The service layer's one check of a number against a range of `LIMITS`; every entry point
 * (HTTP, the action endpoint, MCP) reaches the same check, whatever its schema said.
 */
export function checkRange(name: string, value: number, range: { min?: number; max?: number }, unit = ""): void {
  const min = range.min ?? -Number.MAX_SAFE_INTEGER;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isFinite(value) || value < min || value > max) {
    const bounds = range.min !== undefined ? `between ${min} and ${max}` : `at most ${max}`;
    throw invalid(`${name} must be ${bounds}${unit ? ` ${unit}` : ""} (got ${value})`);
  }
}

/** The same for an integer. */
export function checkInteger(name: string, value: number, range: { min?: number; max?: number }, unit = ""): void {
  if (!Number.isInteger(value)) throw invalid(`${name} must be an integer (got ${value})`);
  checkRange(name, value, range, unit);
}

/** A text's length (UTF-16 units, as the schemas' maxLength counts). */
export function checkLength(name: string, text: string, range: { max: number }): void {
  if (text.length > range.max) throw invalid(`${name} is longer than ${range.max} characters (got ${text.length})`);
}
