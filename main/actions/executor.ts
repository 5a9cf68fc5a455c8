import { performance } from "node:perf_hooks";
import { Value } from "typebox/value";
import type { Desktop, EncodedImage, PointerButton, Rect, ScreenWaitResult } from "../desktop/types.js";
import { splitChord } from "../desktop/keys.js";
import { sleep } from "../shared/deadline.js";
import { invalid } from "../shared/errors.js";
import { Scale, sizeForBudget, type Size } from "./scale.js";
import { NativeAction, type ImageBudget, type ImageOptions, type SettleOptions } from "./schema.js";

/**
 * What the executor runs: native actions, plus what only an adapter produces: an action
 * the adapter could not translate (it fails at its place in the batch) and a drag that
 * starts at the pointer (Anthropic computer_20241022).
 */
export type PlannedAction =
  | NativeAction
  | { type: "invalid"; reason: string }
  | { type: "drag_from_cursor"; x: number; y: number; modifiers?: string[] };

export interface StepImage extends EncodedImage {
  width: number;
  height: number;
}

export interface ActionOutcome {
  status: "ok" | "error" | "skipped";
  /** why it failed or was skipped */
  error?: string;
  /** what the action answers (cursor_position: "X=..,Y=..") */
  text?: string;
  /** cursor_position in screenshot pixels */
  position?: { x: number; y: number };
  /** an image of its own (zoom, or a screenshot action before the end of the batch) */
  image?: StepImage;
  ms: number;
}

export interface StepRequest {
  actions: PlannedAction[];
  /** the screenshot size the caller declared; default: from `budget` */
  screenshotSize?: Size;
  budget?: ImageBudget;
  /** false: no settling (the screenshot is taken at once) */
  settle?: SettleOptions | false;
  image?: ImageOptions;
  /** take the settled screenshot after the batch (default true) */
  screenshot?: boolean;
}

export interface StepTimings {
  actionsMs: number[];
  settleMs: number;
  captureMs: number;
  encodeMs: number;
  totalMs: number;
}

export interface StepResult {
  outcomes: ActionOutcome[];
  /** the settled screenshot after the batch */
  screenshot?: StepImage;
  scale: { screenshot: Size; display: Size };
  settle?: ScreenWaitResult;
  timings: StepTimings;
  /** index of the first failed action, or -1 */
  failedAt: number;
}

/** The phases the executor times; an observer (the runtime's metrics) hears each one as it ends. */
export type ActionPhase = "capture" | "encode" | "input" | "settle";
export type PhaseObserver = (phase: ActionPhase, ms: number) => void;

export const NOT_EXECUTED = "not executed: an earlier action failed";
const DRAG_STEP_PAUSE_MS = 8;
const POINTER_BUTTON_ACTIONS = new Set(["click", "mouse_down", "mouse_up", "drag", "drag_from_cursor"]);
const KEYBOARD_ACTIONS = new Set(["key", "type"]);
/** openbox redraws the decorations of a window it focuses within a few ms of the click */
const FOCUS_SETTLE = { quietMs: 30, firstChangeMs: 80, timeoutMs: 500 } as const;
const DRAG_STEP_PX = 40;
/** actions that send no input: their time is a capture, a pause or a query */
const NON_INPUT_ACTIONS = new Set(["screenshot", "zoom", "wait", "cursor_position", "invalid"]);

/**
 * The one computer-use executor: the HTTP action endpoint, MCP and the built-in agent all
 * run their actions here, over the Desktop interface. Actions run in order; the first
 * failure stops the batch and every later action is answered as not executed (and is
 * not). Coordinates are screenshot pixels, scaled exactly to the display and back.
 * After the batch it waits for the screen to settle (XDamage) and takes one screenshot.
 */
export class ActionExecutor {
  constructor(
    private readonly desktop: Desktop,
    private readonly observe: PhaseObserver = () => undefined,
  ) {}

  /** The scale for a declared size or budget on the current display. */
  async scaleFor(screenshotSize?: Size, budget: ImageBudget = "original"): Promise<Scale> {
    const info = await this.desktop.displayInfo();
    const display = { width: info.resolution.width, height: info.resolution.height };
    return new Scale(screenshotSize ?? sizeForBudget(display, budget), display);
  }

  async run(req: StepRequest): Promise<StepResult> {
    const t0 = performance.now();
    const scale = await this.scaleFor(req.screenshotSize, req.budget);
    const timings: StepTimings = { actionsMs: [], settleMs: 0, captureMs: 0, encodeMs: 0, totalMs: 0 };
    const outcomes: ActionOutcome[] = [];
    let failedAt = -1;
    let lastWait: ScreenWaitResult | undefined;
    let since = performance.now();
    for (const [i, action] of req.actions.entries()) {
      if (failedAt >= 0) {
        outcomes.push({ status: "skipped", error: NOT_EXECUTED, ms: 0 });
        timings.actionsMs.push(0);
        continue;
      }
      const start = performance.now();
      const outcome: ActionOutcome = { status: "ok", ms: 0 };
      try {
        const last = i === req.actions.length - 1 && req.screenshot !== false;
        if (action.type === "screenshot" && !last) {
          lastWait = await this.settle(req, since, timings);
          outcome.image = await this.capture(req, scale, timings);
          since = performance.now();
        } else {
          const prev = req.actions[i - 1];
          if (prev && POINTER_BUTTON_ACTIONS.has(prev.type) && KEYBOARD_ACTIONS.has(action.type)) {
            // a window manager focuses the clicked window only after it has seen the click:
            // keys sent at once would reach the window focused before
            await this.desktop.waitForScreen({ until: "settled", since: start - (outcomes[i - 1]?.ms ?? 0), ...FOCUS_SETTLE });
          }
          await this.one(action, scale, req, outcome);
        }
      } catch (err) {
        outcome.status = "error";
        outcome.error = err instanceof Error ? err.message : String(err);
        failedAt = i;
      }
      outcome.ms = round(performance.now() - start);
      timings.actionsMs.push(outcome.ms);
      if (outcome.status === "ok" && !NON_INPUT_ACTIONS.has(action.type)) this.observe("input", outcome.ms);
      outcomes.push(outcome);
    }
    let screenshot: StepImage | undefined;
    if (req.screenshot !== false) {
      lastWait = await this.settle(req, since, timings);
      screenshot = await this.capture(req, scale, timings);
    }
    timings.totalMs = round(performance.now() - t0);
    return { outcomes, screenshot, scale: { screenshot: scale.screenshot, display: scale.display }, settle: lastWait, timings, failedAt };
  }

  private async settle(req: StepRequest, since: number, timings: StepTimings): Promise<ScreenWaitResult | undefined> {
    if (req.settle === false) return undefined;
    const start = performance.now();
    const result = await this.desktop.waitForScreen({ until: "settled", since, ...req.settle });
    const ms = round(performance.now() - start);
    timings.settleMs += ms;
    this.observe("settle", ms);
    return result;
  }

  private async capture(req: StepRequest, scale: Scale, timings: StepTimings, region?: Rect, size?: Size): Promise<StepImage> {
    const out = size ?? scale.screenshot;
    const image = await this.desktop.screenshot(
      {
        format: req.image?.format ?? "png",
        quality: req.image?.quality ?? 80,
        scale: 1,
        showCursor: req.image?.showCursor ?? false,
        size: !region && scale.identity ? undefined : out,
      },
      region,
    );
    timings.captureMs += image.timings?.captureMs ?? 0;
    timings.encodeMs += image.timings?.encodeMs ?? 0;
    if (image.timings) {
      this.observe("capture", image.timings.captureMs);
      this.observe("encode", image.timings.encodeMs);
    }
    return { ...image, width: out.width, height: out.height };
  }

  private async one(action: PlannedAction, scale: Scale, req: StepRequest, outcome: ActionOutcome): Promise<void> {
    if (action.type === "invalid") throw invalid(action.reason);
    if (action.type !== "drag_from_cursor" && !Value.Check(NativeAction, action)) {
      const first = [...Value.Errors(NativeAction, action)][0] as { message?: string; instancePath?: string } | undefined;
      throw invalid(`invalid ${(action as { type?: string }).type ?? "action"} action: ${first?.instancePath ?? ""} ${first?.message ?? ""}`.trim());
    }
    const d = this.desktop;
    const at = (x: number, y: number) => scale.toDisplay(x, y);
    switch (action.type) {
      case "move": {
        const [x, y] = at(action.x, action.y);
        await this.holding(action.modifiers, () => d.mouseMove(x, y));
        return;
      }
      case "click": {
        const target = action.x !== undefined || action.y !== undefined ? at(need(action.x, "x"), need(action.y, "y")) : undefined;
        await this.holding(action.modifiers, async () => {
          const [x, y] = target ?? (await this.pointer());
          await d.mouseClick(x, y, action.button ?? "left", action.count ?? 1);
        });
        return;
      }
      case "mouse_down":
        await d.mouseDown(action.button ?? "left");
        return;
      case "mouse_up":
        await d.mouseUp(action.button ?? "left");
        return;
      case "drag": {
        const path = action.path.map((p) => at(p.x, p.y));
        await this.holding(action.modifiers, () => this.dragAlong(path, action.button ?? "left"));
        return;
      }
      case "drag_from_cursor": {
        const end = at(action.x, action.y);
        await this.holding(action.modifiers, async () => this.dragAlong([await this.pointer(), end], "left"));
        return;
      }
      case "scroll": {
        const target = action.x !== undefined || action.y !== undefined ? at(need(action.x, "x"), need(action.y, "y")) : undefined;
        const dx = action.dx ?? 0;
        const dy = action.dy ?? 0;
        await this.holding(action.modifiers, async () => {
          const [x, y] = target ?? (await this.pointer());
          if (dx === 0 && dy === 0) await d.mouseMove(x, y);
          else await d.mouseScroll(x, y, dx, dy);
        });
        return;
      }
      case "key": {
        if (action.holdMs !== undefined) {
          await this.holding(splitChord(action.keys), () => sleep(action.holdMs!));
          return;
        }
        for (let n = 0; n < (action.repeat ?? 1); n++) await d.pressKey(action.keys);
        return;
      }
      case "type":
        await d.typeText(action.text, 0);
        return;
      case "wait":
        await sleep(action.ms);
        return;
      case "screenshot":
        // the last action of a batch: the batch's settled screenshot answers it
        return;
      case "zoom": {
        const rect = scale.rectToDisplay(action.region);
        outcome.image = await this.capture(req, scale, { actionsMs: [], settleMs: 0, captureMs: 0, encodeMs: 0, totalMs: 0 }, rect, fit(action.region, scale.screenshot));
        return;
      }
      case "cursor_position": {
        const p = await d.mousePosition();
        const [x, y] = scale.toScreenshot(p.x, p.y);
        outcome.position = { x, y };
        outcome.text = `X=${x},Y=${y}`;
        return;
      }
    }
  }

  /** Runs `task` with `keys` held down, released in reverse order whatever happens. */
  private async holding<T>(keys: string[] | undefined, task: () => Promise<T>): Promise<T> {
    const held: string[] = [];
    try {
      for (const k of keys ?? []) {
        await this.desktop.keyDown(k);
        held.push(k);
      }
      return await task();
    } finally {
      for (const k of held.reverse()) await this.desktop.keyUp(k).catch(() => undefined);
    }
  }

  private async pointer(): Promise<[number, number]> {
    const p = await this.desktop.mousePosition();
    return [p.x, p.y];
  }

  /** Press at the first point, move through every point (in steps toolkits see as a drag), release at the last. */
  private async dragAlong(path: Array<[number, number]>, button: PointerButton): Promise<void> {
    const d = this.desktop;
    const [sx, sy] = path[0]!;
    await d.mouseMove(sx, sy);
    await d.mouseDown(button, sx, sy);
    try {
      let [px, py] = [sx, sy];
      for (const [x, y] of path.slice(1)) {
        const steps = Math.max(2, Math.ceil(Math.hypot(x - px, y - py) / DRAG_STEP_PX));
        for (let i = 1; i <= steps; i++) {
          await sleep(DRAG_STEP_PAUSE_MS);
          await d.mouseMove(Math.round(px + ((x - px) * i) / steps), Math.round(py + ((y - py) * i) / steps));
        }
        [px, py] = [x, y];
      }
      await sleep(DRAG_STEP_PAUSE_MS);
    } finally {
      const [ex, ey] = path[path.length - 1]!;
      await d.mouseUp(button, ex, ey);
    }
  }
}

function need(v: number | undefined, name: string): number {
  if (v === undefined) throw invalid(`${name} is required when the other coordinate is given`);
  return v;
}

/** The largest size with the region's aspect that fits the screenshot size (a zoom fills the image budget). */
function fit(region: { width: number; height: number }, box: Size): Size {
  const f = Math.min(box.width / region.width, box.height / region.height);
  return { width: Math.max(1, Math.round(region.width * f)), height: Math.max(1, Math.round(region.height * f)) };
}

const round = (ms: number) => Math.round(ms * 10) / 10;

