import { invalid } from "../shared/errors.js";
import type { ImageBudget } from "./schema.js";

export interface Size {
  width: number;
  height: number;
}

/** Named image budgets: the largest screenshot a model takes without the API resizing or rejecting it. */
const BUDGETS: Record<Exclude<ImageBudget, "original">, { longEdge: number; pixels: number }> = {
  // Anthropic docs: 1568 px long edge, about 1.15 megapixels
  anthropic: { longEdge: 1568, pixels: 1_150_000 },
  // newer Claude models: 2576 px long edge, 4784 tiles of 28x28
  "anthropic-2576": { longEdge: 2576, pixels: 4784 * 28 * 28 },
};

/** The screenshot size for a display under a budget: the display scaled down (never up) to fit. */
export function sizeForBudget(display: Size, budget: ImageBudget): Size {
  if (budget === "original") return { ...display };
  const b = BUDGETS[budget];
  const f = Math.min(1, b.longEdge / Math.max(display.width, display.height), Math.sqrt(b.pixels / (display.width * display.height)));
  return { width: Math.max(1, Math.floor(display.width * f)), height: Math.max(1, Math.floor(display.height * f)) };
}

/**
 * Screenshot space (the size the model was told) <-> display pixels, each axis on its own.
 * A screenshot pixel s covers display [s*D/W, (s+1)*D/W); it maps to the display pixel
 * holding that area's centre, and a display pixel maps back to the screenshot pixel
 * holding its centre. When the display is at least as large as the screenshot
 * (D >= W) the round trip screenshot -> display -> screenshot is exact at every integer
 * point: the centre of d lies within half a display pixel of s's centre, which is inside s.
 * Integer arithmetic only, so no float rounding can break that.
 */
export class Scale {
  constructor(
    readonly screenshot: Size,
    readonly display: Size,
  ) {}

  get identity(): boolean {
    return this.screenshot.width === this.display.width && this.screenshot.height === this.display.height;
  }

  /** A screenshot point to display pixels; outside the screenshot is an error, never clamped. */
  toDisplay(x: number, y: number): [number, number] {
    const { width: W, height: H } = this.screenshot;
    if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || x >= W || y >= H) {
      throw invalid(`(${x}, ${y}) is outside the ${W}x${H} screenshot`, { outOfRange: true });
    }
    return [axisToDisplay(x, W, this.display.width), axisToDisplay(y, H, this.display.height)];
  }

  /** A display point to screenshot pixels (the cursor position). */
  toScreenshot(x: number, y: number): [number, number] {
    const clamp = (v: number, max: number) => Math.min(Math.max(v, 0), max - 1);
    return [
      clamp(axisToScreenshot(x, this.display.width, this.screenshot.width), this.screenshot.width),
      clamp(axisToScreenshot(y, this.display.height, this.screenshot.height), this.screenshot.height),
    ];
  }

  /** A screenshot rectangle to the display rectangle covering it (edges map like points). */
  rectToDisplay(r: { x: number; y: number; width: number; height: number }) {
    const { width: W, height: H } = this.screenshot;
    if (r.x < 0 || r.y < 0 || r.x + r.width > W || r.y + r.height > H || r.width < 1 || r.height < 1) {
      throw invalid(`the region ${r.width}x${r.height}+${r.x}+${r.y} is outside the ${W}x${H} screenshot`, { outOfRange: true });
    }
    const edge = (v: number, from: number, to: number) => Math.floor((v * to) / from);
    const x0 = edge(r.x, W, this.display.width);
    const y0 = edge(r.y, H, this.display.height);
    const x1 = Math.max(x0 + 1, edge(r.x + r.width, W, this.display.width));
    const y1 = Math.max(y0 + 1, edge(r.y + r.height, H, this.display.height));
    return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  }
}

/** floor((s + 1/2) * D / W) */
const axisToDisplay = (s: number, W: number, D: number) => Math.floor(((2 * s + 1) * D) / (2 * W));
/** floor((d + 1/2) * W / D) */
const axisToScreenshot = (d: number, D: number, W: number) => Math.floor(((2 * d + 1) * W) / (2 * D));
