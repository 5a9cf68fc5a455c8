import { invalid } from "../shared/errors.js";
import type { PlannedAction, StepResult } from "./executor.js";
import type { Size } from "./scale.js";

/** OpenAI's computer tool, as declared: the preview one with a display size, or the GA `computer`. */
export interface OpenAITool {
  type: "computer_use_preview" | "computer";
  display_width?: number;
  display_height?: number;
}

export interface SafetyCheck {
  id: string;
  code?: string | null;
  message?: string | null;
}

export interface ComputerCall {
  type: "computer_call";
  call_id: string;
  action?: Record<string, unknown>;
  actions?: Array<Record<string, unknown>>;
  pending_safety_checks?: SafetyCheck[];
  [k: string]: unknown;
}

/** The computer_call_output item (field for field as openai's ResponseInputItem.ComputerCallOutput). */
export interface ComputerCallOutput {
  type: "computer_call_output";
  call_id: string;
  output: { type: "computer_screenshot"; image_url: string };
  acknowledged_safety_checks?: SafetyCheck[];
}

/** OpenAI's `wait` names no duration; reference harnesses pause 1-2 s (and we settle after it). */
const WAIT_MS = 1000;
const BUTTONS: Record<string, "left" | "right" | "middle" | "back" | "forward"> = {
  left: "left",
  right: "right",
  wheel: "middle",
  middle: "middle",
  back: "back",
  forward: "forward",
};

export function declaredSize(tool: OpenAITool): Size | undefined {
  if (tool.type === "computer") return undefined;
  const { display_width: width, display_height: height } = tool;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width! < 1 || height! < 1) {
    throw invalid("computer_use_preview needs the display_width and display_height declared to the model");
  }
  return { width: width!, height: height! };
}

export function callActions(call: ComputerCall): Array<Record<string, unknown>> {
  if (call.actions && call.action) throw invalid("a computer_call carries action or actions, not both");
  const list = call.actions ?? (call.action ? [call.action] : []);
  if (list.length === 0) throw invalid("the computer_call has no action");
  return list;
}

/**
 * OpenAI scroll deltas are pixels; the wheel moves in notches. Remainders are carried to
 * the next scroll on the same axis, never dropped (250 px = 2 notches now, 50 px kept).
 */
export class ScrollCarry {
  private rest = { x: 0, y: 0 };
  constructor(private readonly pixelsPerNotch = 100) {}

  notches(scrollX: number, scrollY: number, pixelsPerNotch = this.pixelsPerNotch): { dx: number; dy: number } {
    const take = (axis: "x" | "y", px: number) => {
      const total = this.rest[axis] + px;
      const n = Math.trunc(total / pixelsPerNotch) + 0; // no -0
      this.rest[axis] = total - n * pixelsPerNotch;
      return n;
    };
    return { dx: take("x", scrollX), dy: take("y", scrollY) };
  }
}

export function translate(action: Record<string, unknown>, carry: ScrollCarry, pixelsPerNotch?: number): PlannedAction {
  try {
    return translateOrThrow(action, carry, pixelsPerNotch);
  } catch (err) {
    return { type: "invalid", reason: (err as Error).message };
  }
}

function translateOrThrow(a: Record<string, unknown>, carry: ScrollCarry, pixelsPerNotch?: number): PlannedAction {
  const keys = a.keys === undefined || a.keys === null ? undefined : stringList(a.keys, "keys");
  const mods = keys && keys.length > 0 ? keys : undefined;
  const xy = () => {
    if (!Number.isInteger(a.x) || !Number.isInteger(a.y)) throw invalid(`${String(a.type)} needs integer x and y`);
    return { x: a.x as number, y: a.y as number };
  };
  switch (a.type) {
    case "click": {
      const button = BUTTONS[String(a.button ?? "left")];
      if (!button) throw invalid(`unknown button ${JSON.stringify(a.button)}`);
      return { type: "click", ...xy(), button, count: 1, modifiers: mods };
    }
    case "double_click":
      return { type: "click", ...xy(), button: "left", count: 2, modifiers: mods };
    case "move":
      return { type: "move", ...xy(), modifiers: mods };
    case "drag": {
      const path = a.path;
      if (!Array.isArray(path) || path.length < 2) throw invalid("drag needs a path of at least two {x, y} points");
      return { type: "drag", path: path.map((p) => ({ x: (p as { x: number }).x, y: (p as { y: number }).y })), modifiers: mods };
    }
    case "scroll": {
      const sx = Number(a.scroll_x ?? 0);
      const sy = Number(a.scroll_y ?? 0);
      if (!Number.isFinite(sx) || !Number.isFinite(sy)) throw invalid("scroll_x and scroll_y must be numbers of pixels");
      const { dx, dy } = carry.notches(sx, sy, pixelsPerNotch);
      return { type: "scroll", ...xy(), dx, dy, modifiers: mods };
    }
    case "keypress": {
      const list = stringList(a.keys, "keys");
      if (list.length === 0) throw invalid("keypress needs at least one key");
      return { type: "key", keys: list.join("+") };
    }
    case "type":
      if (typeof a.text !== "string" || a.text.length === 0) throw invalid("type needs text");
      return { type: "type", text: a.text };
    case "wait":
      return { type: "wait", ms: WAIT_MS };
    case "screenshot":
      return { type: "screenshot" };
    default:
      throw invalid(`unknown computer action type ${JSON.stringify(a.type)}`);
  }
}

function stringList(v: unknown, name: string): string[] {
  if (!Array.isArray(v) || !v.every((k) => typeof k === "string" && k.length > 0)) throw invalid(`${name} must be a list of key names`);
  return v as string[];
}

export function callOutput(call: ComputerCall, result: StepResult, acknowledge: boolean): ComputerCallOutput {
  const shot = result.screenshot!;
  const out: ComputerCallOutput = {
    type: "computer_call_output",
    call_id: call.call_id,
    output: { type: "computer_screenshot", image_url: `data:${shot.contentType};base64,${shot.data.toString("base64")}` },
  };
  if (acknowledge && call.pending_safety_checks?.length) out.acknowledged_safety_checks = call.pending_safety_checks;
  return out;
}
