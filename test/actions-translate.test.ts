// The action model without a desktop: exact scaling, budgets, scroll units, key names, and
// both dialects' payloads (typed against the official SDKs, so a wrong fixture fails the build).
import test from "node:test";
import assert from "node:assert/strict";
import type { BetaToolUseBlock, BetaComputerToolUseBlock, BetaToolComputerUse20250124, BetaToolResultBlockParam } from "@anthropic-ai/sdk/resources/beta/messages/messages";
import type { ResponseComputerToolCall, ResponseInputItem } from "openai/resources/responses/responses";
import { Scale, sizeForBudget } from "../main/actions/scale.js";
import * as anthropic from "../main/actions/anthropic.js";
import * as openai from "../main/actions/openai.js";
import { resolveKeysym, KEYSYM } from "../main/desktop/keys.js";
import { GlasspaneError } from "../main/shared/errors.js";
import type { StepResult } from "../main/actions/executor.js";

const DECLARED = [
  [1024, 768],
  [1280, 800],
  [1366, 768],
  [1280, 720],
] as const;
const DISPLAYS = [
  [1440, 900],
  [1920, 1080],
] as const;

test("screenshot -> display -> screenshot is exact at every integer point", () => {
  for (const [w, h] of DECLARED) {
    for (const [dw, dh] of DISPLAYS) {
      const s = new Scale({ width: w, height: h }, { width: dw, height: dh });
      let errors = 0;
      for (let x = 0; x < w; x++) {
        for (let y = 0; y < h; y += 1) {
          const [X, Y] = s.toDisplay(x, y);
          assert.ok(X >= 0 && X < dw && Y >= 0 && Y < dh);
          const [bx, by] = s.toScreenshot(X, Y);
          if (bx !== x || by !== y) errors++;
        }
      }
      assert.equal(errors, 0, `${w}x${h} onto ${dw}x${dh}`);
      // the corners reach the display's corners' pixels
      assert.deepEqual(s.toDisplay(0, 0), [0, 0]);
      const [ex, ey] = s.toDisplay(w - 1, h - 1);
      assert.ok(dw - 1 - ex <= Math.ceil(dw / w) && dh - 1 - ey <= Math.ceil(dh / h));
    }
  }
});

test("a coordinate outside the screenshot is an error, never clamped", () => {
  const s = new Scale({ width: 1024, height: 768 }, { width: 1440, height: 900 });
  for (const [x, y] of [[1024, 10], [10, 768], [-1, 0], [0, -1], [5000, 5000], [1.5, 3]]) {
    assert.throws(() => s.toDisplay(x!, y!), (e: unknown) => e instanceof GlasspaneError && e.status === 400 && /outside|screenshot/.test(e.message));
  }
});

test("budgets pick the screenshot size: Anthropic 1568 px / 1.15 MP, 2576 px, original", () => {
  const a = sizeForBudget({ width: 1440, height: 900 }, "anthropic");
  assert.ok(a.width * a.height <= 1_150_000 && Math.max(a.width, a.height) <= 1568, JSON.stringify(a));
  assert.ok(Math.abs(a.width / a.height - 1.6) < 0.01);
  assert.deepEqual(sizeForBudget({ width: 1440, height: 900 }, "anthropic-2576"), { width: 1440, height: 900 });
  const big = sizeForBudget({ width: 3840, height: 2160 }, "anthropic-2576");
  assert.ok(Math.max(big.width, big.height) <= 2576);
  assert.deepEqual(sizeForBudget({ width: 1920, height: 1080 }, "original"), { width: 1920, height: 1080 });
});

test("OpenAI scroll pixels become notches with the remainder carried", () => {
  const c = new openai.ScrollCarry(100);
  assert.deepEqual(c.notches(0, 250), { dx: 0, dy: 2 });
  assert.deepEqual(c.notches(0, 50), { dx: 0, dy: 1 });
  assert.deepEqual(c.notches(0, -30), { dx: 0, dy: 0 });
  assert.deepEqual(c.notches(-170, -70), { dx: -1, dy: -1 });
});

test("key names of xdotool, DOM/Playwright and OpenAI resolve through the one table", () => {
  const same: Array<[string[], number]> = [
    [["Return", "Enter", "ENTER", "RETURN"], KEYSYM.Return],
    [["Escape", "ESC", "Esc"], KEYSYM.Escape],
    [["ctrl", "CTRL", "Control_L", "ControlLeft"], KEYSYM.Control_L],
    [["BackSpace", "Backspace", "BACKSPACE"], KEYSYM.BackSpace],
    [["Left", "ArrowLeft", "ARROWLEFT", "LEFT"], resolveKeysym("Left")],
    [["Page_Up", "PageUp", "PAGEUP", "Prior"], resolveKeysym("Prior")],
    [["space", "SPACE", " "], 0x20],
    [["super", "CMD", "Meta", "WIN"], KEYSYM.Super_L],
    [["KP_0", "Numpad0"], resolveKeysym("KP_0")],
  ];
  for (const [names, sym] of same) for (const n of names) assert.equal(resolveKeysym(n), sym, n);
});

const tool20250124: BetaToolComputerUse20250124 = { type: "computer_20250124", name: "computer", display_width_px: 1024, display_height_px: 768 };

test("every Anthropic action translates to the native model", () => {
  const blocks: BetaToolUseBlock[] = [
    { type: "tool_use", id: "t1", name: "computer", input: { action: "left_click", coordinate: [10, 20], text: "ctrl+shift" } },
    { type: "tool_use", id: "t2", name: "computer", input: { action: "scroll", coordinate: [5, 5], scroll_direction: "up", scroll_amount: 3 } },
    { type: "tool_use", id: "t3", name: "computer", input: { action: "hold_key", text: "shift", duration: 1 } },
    { type: "tool_use", id: "t4", name: "computer", input: { action: "left_click_drag", start_coordinate: [1, 2], coordinate: [3, 4] } },
    { type: "tool_use", id: "t5", name: "computer", input: { action: "triple_click", coordinate: [7, 8] } },
    { type: "tool_use", id: "t6", name: "computer", input: { action: "zoom", region: [0, 0, 10, 10] } },
  ];
  const tool = tool20250124 as anthropic.AnthropicTool;
  assert.deepEqual(anthropic.translate(tool, blocks[0] as anthropic.ToolUse), { type: "click", x: 10, y: 20, button: "left", count: 1, modifiers: ["ctrl", "shift"] });
  assert.deepEqual(anthropic.translate(tool, blocks[1] as anthropic.ToolUse), { type: "scroll", x: 5, y: 5, dx: 0, dy: -3, modifiers: undefined });
  assert.deepEqual(anthropic.translate(tool, blocks[2] as anthropic.ToolUse), { type: "key", keys: "shift", holdMs: 1000 });
  assert.deepEqual(anthropic.translate(tool, blocks[3] as anthropic.ToolUse), { type: "drag", path: [{ x: 1, y: 2 }, { x: 3, y: 4 }], modifiers: undefined });
  assert.deepEqual(anthropic.translate(tool, blocks[4] as anthropic.ToolUse), { type: "click", x: 7, y: 8, button: "left", count: 3, modifiers: undefined });
  // zoom is not part of 20250124: an error result in its place
  assert.equal(anthropic.translate(tool, blocks[5] as anthropic.ToolUse).type, "invalid");
  // 20241022 has no scroll
  assert.equal(anthropic.translate({ ...tool, type: "computer_20241022" }, blocks[1] as anthropic.ToolUse).type, "invalid");
});

test("toolset members: results echo toolset_name, one per tool_use in order, skipped ones marked", () => {
  const turn: BetaComputerToolUseBlock[] = [
    { type: "tool_use", id: "a", name: "type", toolset_name: "computer", input: { text: "hi" } },
    { type: "tool_use", id: "b", name: "key", toolset_name: "computer", input: { text: "Return", repeat: 2 } },
    { type: "tool_use", id: "c", name: "screenshot", toolset_name: "computer", input: {} },
  ];
  const tool: anthropic.AnthropicTool = { type: "computer_toolset_20260801" };
  const blocks = anthropic.computerBlocks(tool, turn);
  assert.deepEqual(blocks.map((b) => anthropic.translate(tool, b)), [{ type: "type", text: "hi" }, { type: "key", keys: "Return", repeat: 2 }, { type: "screenshot" }]);
  const shot = { data: Buffer.from("png"), contentType: "image/png", width: 2, height: 2 };
  const result: StepResult = {
    outcomes: [{ status: "ok", ms: 1 }, { status: "error", error: "boom", ms: 1 }, { status: "skipped", error: "not executed: an earlier action failed", ms: 0 }],
    screenshot: shot,
    scale: { screenshot: { width: 2, height: 2 }, display: { width: 2, height: 2 } },
    timings: { actionsMs: [1, 1, 0], settleMs: 0, captureMs: 0, encodeMs: 0, totalMs: 2 },
    failedAt: 1,
  };
  const results: BetaToolResultBlockParam[] = anthropic.toolResults(blocks, result);
  assert.deepEqual(results.map((r) => [r.tool_use_id, r.is_error ?? false, r.toolset_name]), [["a", false, "computer"], ["b", true, "computer"], ["c", true, "computer"]]);
  assert.ok(JSON.stringify(results[1]!.content).includes('"image"'), "the failed action carries the screenshot");
  assert.match(JSON.stringify(results[2]!.content), /not executed/);
});

test("every OpenAI action translates; safety checks are passed back", () => {
  const call: ResponseComputerToolCall = {
    type: "computer_call",
    id: "cu_1",
    call_id: "call_1",
    status: "completed",
    pending_safety_checks: [{ id: "sc_1", code: "malicious_instructions", message: "check" }],
    actions: [
      { type: "click", x: 1, y: 2, button: "back", keys: ["SHIFT"] },
      { type: "double_click", x: 3, y: 4, keys: null },
      { type: "drag", path: [{ x: 0, y: 0 }, { x: 5, y: 5 }, { x: 9, y: 1 }], keys: ["CTRL"] },
      { type: "keypress", keys: ["CTRL", "ALT", "T"] },
      { type: "move", x: 6, y: 7 },
      { type: "scroll", x: 8, y: 9, scroll_x: 0, scroll_y: 300 },
      { type: "type", text: "hello" },
      { type: "wait" },
      { type: "screenshot" },
    ],
  };
  const carry = new openai.ScrollCarry();
  const native = openai.callActions(call as unknown as openai.ComputerCall).map((a) => openai.translate(a, carry));
  assert.deepEqual(native, [
    { type: "click", x: 1, y: 2, button: "back", count: 1, modifiers: ["SHIFT"] },
    { type: "click", x: 3, y: 4, button: "left", count: 2, modifiers: undefined },
    { type: "drag", path: [{ x: 0, y: 0 }, { x: 5, y: 5 }, { x: 9, y: 1 }], modifiers: ["CTRL"] },
    { type: "key", keys: "CTRL+ALT+T" },
    { type: "move", x: 6, y: 7, modifiers: undefined },
    { type: "scroll", x: 8, y: 9, dx: 0, dy: 3, modifiers: undefined },
    { type: "type", text: "hello" },
    { type: "wait", ms: 1000 },
    { type: "screenshot" },
  ]);
  const shot = { data: Buffer.from("x"), contentType: "image/png", width: 1, height: 1 };
  const out: ResponseInputItem.ComputerCallOutput = openai.callOutput(call as unknown as openai.ComputerCall, { screenshot: shot } as StepResult, true);
  assert.equal(out.output.image_url, "data:image/png;base64,eA==");
  assert.deepEqual(out.acknowledged_safety_checks, call.pending_safety_checks);
  assert.equal(openai.callOutput(call as unknown as openai.ComputerCall, { screenshot: shot } as StepResult, false).acknowledged_safety_checks, undefined);
});
