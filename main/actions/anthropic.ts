import { splitChord } from "../desktop/keys.js";
import { invalid } from "../shared/errors.js";
import type { ActionOutcome, PlannedAction, StepImage, StepResult } from "./executor.js";
import type { Size } from "./scale.js";

/** Anthropic's computer tool, as the caller declared it to the model. */
export interface AnthropicTool {
  type: "computer_20241022" | "computer_20250124" | "computer_20251124" | "computer_toolset_20260801";
  display_width_px?: number;
  display_height_px?: number;
  enable_zoom?: boolean;
}

export interface ToolUse {
  type: "tool_use";
  id: string;
  name: string;
  input: unknown;
  toolset_name?: string | null;
}

/** The tool_result block (field for field as @anthropic-ai/sdk's BetaToolResultBlockParam). */
export interface ToolResult {
  type: "tool_result";
  tool_use_id: string;
  content: Array<{ type: "text"; text: string } | { type: "image"; source: { type: "base64"; media_type: "image/png" | "image/jpeg" | "image/webp"; data: string } }>;
  is_error?: boolean;
  toolset_name?: string;
}

const SINCE_20250124 = ["triple_click", "left_mouse_down", "left_mouse_up", "scroll", "hold_key", "wait"];
const CLICKS: Record<string, { button: "left" | "right" | "middle"; count: number }> = {
  left_click: { button: "left", count: 1 },
  right_click: { button: "right", count: 1 },
  middle_click: { button: "middle", count: 1 },
  double_click: { button: "left", count: 2 },
  triple_click: { button: "left", count: 3 },
};

/** The computer tool_use blocks of an assistant turn (others are the caller's), in order. */
export function computerBlocks(tool: AnthropicTool, content: unknown[]): ToolUse[] {
  const toolset = tool.type === "computer_toolset_20260801";
  const blocks = content.filter(
    (b): b is ToolUse =>
      typeof b === "object" && b !== null && (b as ToolUse).type === "tool_use" && (toolset ? (b as ToolUse).toolset_name === "computer" : (b as ToolUse).name === "computer"),
  );
  if (blocks.length === 0) throw invalid(toolset ? 'no tool_use block with toolset_name "computer"' : 'no tool_use block named "computer"');
  if (!toolset && blocks.length > 1) throw invalid("the single computer tool takes one tool_use block per call");
  return blocks;
}

/** The declared screenshot size: required by the single-tool versions, absent for the toolset. */
export function declaredSize(tool: AnthropicTool): Size | undefined {
  if (tool.type === "computer_toolset_20260801") return undefined;
  const { display_width_px: width, display_height_px: height } = tool;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width! < 1 || height! < 1) {
    throw invalid(`${tool.type} needs the display_width_px and display_height_px declared to the model`);
  }
  return { width: width!, height: height! };
}

/** One tool_use block -> the native action (or an invalid one that fails in its place). */
export function translate(tool: AnthropicTool, block: ToolUse): PlannedAction {
  try {
    return translateOrThrow(tool, block);
  } catch (err) {
    return { type: "invalid", reason: (err as Error).message };
  }
}

function translateOrThrow(tool: AnthropicTool, block: ToolUse): PlannedAction {
  const toolset = tool.type === "computer_toolset_20260801";
  const input = (typeof block.input === "object" && block.input !== null ? block.input : {}) as Record<string, unknown>;
  const action = toolset ? block.name : String(input.action ?? "");
  if (tool.type === "computer_20241022" && SINCE_20250124.includes(action)) throw invalid(`${action} needs computer_20250124 or later`);
  if (action === "zoom" && !toolset && !(tool.type === "computer_20251124" && tool.enable_zoom)) {
    throw invalid("zoom needs computer_20251124 declared with enable_zoom: true, or the computer toolset");
  }
  const mods = input.text === undefined || input.text === null || input.text === "" ? undefined : splitChord(String(input.text));
  const coord = (name: string) => point(input[name], name);
  const optCoord = (name: string) => (input[name] === undefined || input[name] === null ? undefined : coord(name));
  switch (action) {
    case "screenshot":
      return { type: "screenshot" };
    case "cursor_position":
      return { type: "cursor_position" };
    case "mouse_move": {
      const [x, y] = coord("coordinate");
      return { type: "move", x, y, modifiers: mods };
    }
    case "left_click":
    case "right_click":
    case "middle_click":
    case "double_click":
    case "triple_click": {
      const at = optCoord("coordinate");
      const { button, count } = CLICKS[action]!;
      return { type: "click", ...(at ? { x: at[0], y: at[1] } : {}), button, count, modifiers: mods };
    }
    case "left_click_drag": {
      const [x, y] = coord("coordinate");
      const start = tool.type === "computer_20241022" ? undefined : optCoord("start_coordinate");
      if (!start) return { type: "drag_from_cursor", x, y, modifiers: mods };
      return { type: "drag", path: [{ x: start[0], y: start[1] }, { x, y }], modifiers: mods };
    }
    case "left_mouse_down":
      return { type: "mouse_down", button: "left" };
    case "left_mouse_up":
      return { type: "mouse_up", button: "left" };
    case "scroll": {
      const at = optCoord("coordinate");
      const amount = input.scroll_amount;
      if (!Number.isInteger(amount) || (amount as number) < 0) throw invalid("scroll_amount must be a non-negative integer (wheel notches)");
      const n = amount as number;
      const dir = input.scroll_direction;
      const [dx, dy] = dir === "up" ? [0, -n] : dir === "down" ? [0, n] : dir === "left" ? [-n, 0] : dir === "right" ? [n, 0] : [NaN, NaN];
      if (Number.isNaN(dx)) throw invalid(`scroll_direction must be up, down, left or right (got ${JSON.stringify(dir)})`);
      return { type: "scroll", ...(at ? { x: at[0], y: at[1] } : {}), dx, dy, modifiers: mods };
    }
    case "key": {
      const text = requireText(input);
      const repeat = input.repeat === undefined || input.repeat === null ? undefined : (input.repeat as number);
      return { type: "key", keys: text, ...(repeat !== undefined ? { repeat } : {}) };
    }
    case "hold_key":
      return { type: "key", keys: requireText(input), holdMs: seconds(input.duration) };
    case "type":
      return { type: "type", text: requireText(input) };
    case "wait":
      return { type: "wait", ms: seconds(input.duration) };
    case "zoom": {
      const r = input.region;
      if (!Array.isArray(r) || r.length !== 4 || !r.every(Number.isInteger)) throw invalid("region must be [x0, y0, x1, y1] in screenshot pixels");
      const [x0, y0, x1, y1] = r as number[];
      if (x1! <= x0! || y1! <= y0!) throw invalid("region must have x1 > x0 and y1 > y0");
      return { type: "zoom", region: { x: x0!, y: y0!, width: x1! - x0!, height: y1! - y0! } };
    }
    default:
      throw invalid(`unknown computer action ${JSON.stringify(action)}`);
  }
}

function point(v: unknown, name: string): [number, number] {
  if (!Array.isArray(v) || v.length !== 2 || !v.every(Number.isInteger)) throw invalid(`${name} must be [x, y] in screenshot pixels`);
  return [v[0], v[1]];
}

function requireText(input: Record<string, unknown>): string {
  if (typeof input.text !== "string" || input.text.length === 0) throw invalid("text is required");
  return input.text;
}

function seconds(v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw invalid("duration must be a non-negative number of seconds");
  return Math.round(v * 1000);
}

/** The tool_result blocks, one per tool_use in order; the batch screenshot goes with the last executed one. */
export function toolResults(blocks: ToolUse[], result: StepResult): ToolResult[] {
  const lastRun = result.failedAt >= 0 ? result.failedAt : blocks.length - 1;
  return blocks.map((block, i) => {
    const o: ActionOutcome = result.outcomes[i]!;
    const content: ToolResult["content"] = [];
    if (o.status !== "ok") content.push({ type: "text", text: o.error ?? "failed" });
    else if (o.text) content.push({ type: "text", text: o.text });
    if (o.image) content.push(imageBlock(o.image));
    if (i === lastRun && result.screenshot && o.status !== "skipped") content.push(imageBlock(result.screenshot));
    if (content.length === 0) content.push({ type: "text", text: "ok" });
    const r: ToolResult = { type: "tool_result", tool_use_id: block.id, content };
    if (o.status !== "ok") r.is_error = true;
    if (block.toolset_name) r.toolset_name = block.toolset_name;
    return r;
  });
}

function imageBlock(image: StepImage): ToolResult["content"][number] {
  return { type: "image", source: { type: "base64", media_type: image.contentType as "image/png", data: image.data.toString("base64") } };
}
