import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface Bounds {
  x?: number;
  y?: number;
  width: number;
  height: number;
}

export const DEFAULT_BOUNDS: Bounds = { width: 1280, height: 860 };
const MIN = { width: 640, height: 480 };

/** The bounds saved last time, fitted to the work area that is there now; the default when none fit. */
export function loadBounds(file: string, workArea: { x: number; y: number; width: number; height: number }): Bounds {
  let saved: Partial<Bounds>;
  try {
    saved = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return fit(DEFAULT_BOUNDS, workArea);
  }
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? Math.round(v) : undefined);
  const width = num(saved.width);
  const height = num(saved.height);
  if (width === undefined || height === undefined) return fit(DEFAULT_BOUNDS, workArea);
  return fit({ x: num(saved.x), y: num(saved.y), width, height }, workArea);
}

function fit(b: Bounds, area: { x: number; y: number; width: number; height: number }): Bounds {
  const width = Math.max(MIN.width, Math.min(b.width, area.width));
  const height = Math.max(MIN.height, Math.min(b.height, area.height));
  if (b.x === undefined || b.y === undefined) return { width, height };
  // a window saved on a screen that is gone comes back on this one
  const onScreen = b.x + width > area.x + 40 && b.x < area.x + area.width - 40 && b.y >= area.y - 10 && b.y < area.y + area.height - 40;
  return onScreen ? { x: b.x, y: b.y, width, height } : { width, height };
}

/** Saves the bounds atomically (a crash mid-write leaves the previous file). */
export function saveBounds(file: string, b: Bounds): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify({ x: b.x, y: b.y, width: b.width, height: b.height }));
  renameSync(tmp, file);
}
