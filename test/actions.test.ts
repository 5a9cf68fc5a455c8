// One model step per POST /v1/desktop/actions against a real desktop (Xvfb 1440x900, openbox,
// xterm, zenity, xev), with request fixtures typed against the official SDKs.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import type { BetaToolUseBlock, BetaComputerToolUseBlock, BetaToolComputerUse20250124, BetaToolResultBlockParam } from "@anthropic-ai/sdk/resources/beta/messages/messages";
import type { ComputerUsePreviewTool, ResponseComputerToolCall, ResponseInputItem } from "openai/resources/responses/responses";
import { eventually, startServer, type TestServer } from "./support/server.js";
import { Scale } from "../main/actions/scale.js";
import type { WindowInfo } from "../main/desktop/types.js";
import { sleep } from "../main/shared/deadline.js";

const DISPLAY_SIZE = { width: 1440, height: 900 };
const DECLARED = { width: 1024, height: 768 };
const scale = new Scale(DECLARED, DISPLAY_SIZE);
const tool: BetaToolComputerUse20250124 = { type: "computer_20250124", name: "computer", display_width_px: DECLARED.width, display_height_px: DECLARED.height };
const toolset = { type: "computer_toolset_20260801" } as const;
const previewTool: ComputerUsePreviewTool = { type: "computer_use_preview", display_width: DECLARED.width, display_height: DECLARED.height, environment: "linux" };

let server: TestServer;
let display: string;
const work = mkdtempSync(path.join(os.tmpdir(), "glasspane-actions-"));
const typedPath = path.join(work, "typed.txt");
const children: ChildProcess[] = [];
let xevOut = "";

interface StepAnswer<R> {
  dialect: string;
  result: R;
  glasspane: {
    scale: { screenshot: { width: number; height: number }; display: { width: number; height: number } };
    actions: Array<{ status: string; error?: string }>;
    settle: { changed: boolean; timedOut: boolean; waitedMs: number } | null;
    timings: { settleMs: number; captureMs: number; encodeMs: number; totalMs: number };
    pendingSafetyChecks?: unknown[];
  };
}

async function step<R>(body: unknown): Promise<StepAnswer<R> & { serverTiming: string | null }> {
  const res = await server.fetch("/v1/desktop/actions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return { ...(JSON.parse(text) as StepAnswer<R>), serverTiming: res.headers.get("server-timing") };
}

async function anthropicStep(block: BetaToolUseBlock, extra: object = {}) {
  return step<BetaToolResultBlockParam[]>({ dialect: "anthropic", tool, content: block, ...extra });
}

async function openaiStep(call: ResponseComputerToolCall, extra: object = {}) {
  return step<ResponseInputItem.ComputerCallOutput>({ dialect: "openai", tool: previewTool, call, ...extra });
}

function call(actions: ResponseComputerToolCall["actions"]): ResponseComputerToolCall {
  return { type: "computer_call", id: "cu", call_id: "call", status: "completed", pending_safety_checks: [], actions };
}

let ids = 0;
const use = (input: Record<string, unknown>): BetaToolUseBlock => ({ type: "tool_use", id: `toolu_${++ids}`, name: "computer", input });

async function json<T>(p: string, init?: RequestInit): Promise<T> {
  const res = await server.fetch(p, init);
  assert.ok(res.ok, `${p}: ${res.status} ${await res.clone().text()}`);
  return (await res.json()) as T;
}

type Win = WindowInfo;
const windows = () => json<{ windows: Win[] }>("/v1/desktop/windows").then((r) => r.windows);
async function windowTitled(title: string): Promise<Win> {
  let found: Win | undefined;
  await eventually(`a window titled ${title}`, async () => !!(found = (await windows()).find((w) => w.title === title)), 20_000);
  return found!;
}
const pointer = () => json<{ x: number; y: number }>("/v1/desktop/mouse/position");

/** A display point -> the screenshot point whose image covers it. */
const shot = (x: number, y: number) => scale.toScreenshot(x, y);

function imagesOf(r: BetaToolResultBlockParam): Buffer[] {
  const content = Array.isArray(r.content) ? r.content : [];
  return content.flatMap((c) => (c.type === "image" && c.source.type === "base64" ? [Buffer.from(c.source.data, "base64")] : []));
}
function textOf(r: BetaToolResultBlockParam): string {
  const content = Array.isArray(r.content) ? r.content : [];
  return content.map((c) => (c.type === "text" ? c.text : "")).join("");
}

/** Raw pixels of a display-space rectangle of a full-display screenshot. */
async function crop(png: Buffer, r: { x: number; y: number; width: number; height: number }) {
  return sharp(png).extract({ left: r.x, top: r.y, width: r.width, height: r.height }).raw().toBuffer();
}
async function displayShot(): Promise<Buffer> {
  const res = await server.fetch("/v1/desktop/screenshot?format=png");
  return Buffer.from(await res.arrayBuffer());
}

function xclientSpawn(cmd: string, args: string[], onOut?: (s: string) => void): ChildProcess {
  const child = spawn(cmd, args, { env: { ...process.env, DISPLAY: display, LANG: "C.UTF-8", LC_ALL: "C.UTF-8" }, stdio: ["ignore", "pipe", "ignore"] });
  child.on("error", (err) => assert.fail(`cannot start ${cmd}: ${err.message}`));
  child.stdout!.on("data", (d: Buffer) => onOut?.(d.toString()));
  children.push(child);
  return child;
}

before(async () => {
  server = await startServer({ desktop: true, env: { LANG: "C.UTF-8", LC_ALL: "C.UTF-8" } });
  const info = await json<{ display: string; resolution: { width: number; height: number } }>("/v1/desktop/display/info");
  assert.deepEqual({ width: info.resolution.width, height: info.resolution.height }, DISPLAY_SIZE);
  display = info.display;
  xclientSpawn("xterm", ["-u8", "-T", "typing", "-geometry", "60x8+0+0", "-e", "sh", "-c", `cat > '${typedPath}'`]);
  xclientSpawn("xterm", ["-T", "shell", "-geometry", "80x20+0+250", "-e", "sh"]);
  xclientSpawn("xev", ["-geometry", "300x200+1000+500", "-name", "xevwin", "-event", "button", "-event", "keyboard"], (s) => (xevOut += s));
  await windowTitled("typing");
  await windowTitled("shell");
  await eventually("xev's window", async () => (await windows()).some((w) => w.title === "xevwin"), 20_000);
});

after(async () => {
  for (const c of children) c.kill("SIGKILL");
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("Anthropic computer tool", () => {
  it("types into a window and answers with a settled screenshot of the declared size", async () => {
    const typing = await windowTitled("typing");
    const [cx, cy] = shot(typing.x + 50, typing.y + 30);
    await anthropicStep(use({ action: "left_click", coordinate: [cx, cy] }));
    const r = await anthropicStep(use({ action: "type", text: "héllo wörld ✓" }));
    assert.equal(r.result.length, 1);
    assert.equal(r.result[0]!.is_error, undefined);
    const [img] = imagesOf(r.result[0]!);
    assert.ok(img, "a screenshot in the tool_result");
    const meta = await sharp(img).metadata();
    assert.deepEqual([meta.width, meta.height], [DECLARED.width, DECLARED.height]);
    assert.deepEqual(r.glasspane.scale, { screenshot: DECLARED, display: DISPLAY_SIZE });
    assert.match(r.serverTiming ?? "", /settle;dur=.*capture;dur=.*encode;dur=/);
    await anthropicStep(use({ action: "key", text: "Return" }));
    await eventually("typed text in the file", () => readFileSync(typedPath, "utf8") === "héllo wörld ✓\n");
  });

  it("moves the pointer exactly and reports cursor_position in screenshot space", async () => {
    for (const [x, y] of [[0, 0], [512, 384], [1023, 767], [333, 701]] as const) {
      await anthropicStep(use({ action: "mouse_move", coordinate: [x, y] }), { settle: false });
      const p = await pointer();
      assert.deepEqual([p.x, p.y], scale.toDisplay(x, y));
      const r = await anthropicStep(use({ action: "cursor_position" }), { settle: false });
      assert.equal(textOf(r.result[0]!), `X=${x},Y=${y}`);
    }
  });

  it("clicks every button and count, presses and releases, holds and repeats keys, as xev sees", async () => {
    const xev = (await windows()).find((w) => w.title === "xevwin")!;
    const [cx, cy] = shot(xev.x + 150, xev.y + 100);
    const count = (re: RegExp) => (xevOut.match(re) ?? []).length;
    const press = (button: number) => new RegExp(`ButtonPress[^]*?button ${button},`, "g");
    await anthropicStep(use({ action: "left_click", coordinate: [cx, cy] })); // focus xev
    const steps: Array<[Record<string, unknown>, RegExp, number]> = [
      [{ action: "right_click", coordinate: [cx, cy] }, press(3), 1],
      [{ action: "middle_click", coordinate: [cx, cy] }, press(2), 1],
      [{ action: "double_click", coordinate: [cx, cy] }, press(1), 2],
      [{ action: "triple_click", coordinate: [cx, cy] }, press(1), 3],
      [{ action: "left_mouse_down" }, press(1), 1],
      [{ action: "left_mouse_up" }, /ButtonRelease[^]*?button 1,/g, 1],
      [{ action: "key", text: "a", repeat: 3 }, /KeyPress[^]*?keysym 0x61, a\)/g, 3],
    ];
    for (const [input, re, n] of steps) {
      xevOut = "";
      const r = await anthropicStep(use(input));
      assert.equal(r.result[0]!.is_error, undefined, JSON.stringify(input));
      await eventually(`${JSON.stringify(input)}: ${n} x ${re}`, () => count(re) === n);
    }
    xevOut = "";
    const started = Date.now();
    await anthropicStep(use({ action: "hold_key", text: "shift", duration: 1 }));
    assert.ok(Date.now() - started >= 1000, "hold_key held for its duration");
    await eventually("Shift pressed and released", () => /KeyPress[^]*?Shift_L[^]*?KeyRelease[^]*?Shift_L/.test(xevOut));
    const times = [...xevOut.matchAll(/Key(Press|Release) event[^]*?time (\d+)/g)].map((m) => Number(m[2]));
    assert.ok(times.length >= 2 && times[times.length - 1]! - times[0]! >= 950, `held ${times.join(",")}`);
    const waited = Date.now();
    await anthropicStep(use({ action: "wait", duration: 1 }), { settle: false });
    assert.ok(Date.now() - waited >= 1000);
  });

  it("answers an out-of-range coordinate with an error result and does not move", async () => {
    const before = await pointer();
    const r = await anthropicStep(use({ action: "left_click", coordinate: [DECLARED.width, 10] }));
    assert.equal(r.result[0]!.is_error, true);
    assert.match(textOf(r.result[0]!), /outside the 1024x768 screenshot/);
    assert.deepEqual(await pointer(), before);
  });

  it("scrolls the scrollback in notches", async () => {
    const shell = await windowTitled("shell");
    const [cx, cy] = shot(shell.x + 100, shell.y + 100);
    await anthropicStep(use({ action: "left_click", coordinate: [cx, cy] }));
    await anthropicStep(use({ action: "type", text: "seq 1 200\n" }));
    const area = { x: shell.x, y: shell.y, width: shell.width, height: shell.height };
    const bottom = await crop(await displayShot(), area);
    await anthropicStep(use({ action: "scroll", coordinate: [cx, cy], scroll_direction: "up", scroll_amount: 5 }));
    const scrolled = await crop(await displayShot(), area);
    assert.notDeepEqual(scrolled, bottom, "the scrollback moved");
    await anthropicStep(use({ action: "scroll", coordinate: [cx, cy], scroll_direction: "down", scroll_amount: 5 }));
    assert.deepEqual(await crop(await displayShot(), area), bottom, "scrolling back down restores the view");
  });
});

describe("held modifiers, extra buttons, drag paths (OpenAI computer_call)", () => {
  it("holds Shift for capitals", async () => {
    const typing = await windowTitled("typing");
    const [cx, cy] = shot(typing.x + 50, typing.y + 30);
    const before = readFileSync(typedPath, "utf8");
    const r = await openaiStep(call([{ type: "click", x: cx, y: cy, button: "left", keys: [] }, { type: "keypress", keys: ["SHIFT", "A"] }, { type: "keypress", keys: ["b"] }, { type: "keypress", keys: ["ENTER"] }]));
    assert.deepEqual(r.glasspane.actions.map((a) => a.error ?? a.status), ["ok", "ok", "ok", "ok"]);
    await eventually("Ab in the file", () => readFileSync(typedPath, "utf8") === `${before}Ab\n`).catch((e) => assert.fail(`${e.message}: ${JSON.stringify(readFileSync(typedPath, "utf8").slice(before.length))}`));
  });

  it("clicks buttons 8/9 (back/forward) and holds keys during a click, as xev sees", async () => {
    const xev = (await windows()).find((w) => w.title === "xevwin")!;
    const [cx, cy] = shot(xev.x + 150, xev.y + 100);
    xevOut = "";
    const r = await openaiStep(call([{ type: "click", x: cx, y: cy, button: "back" }, { type: "click", x: cx, y: cy, button: "forward" }, { type: "click", x: cx, y: cy, button: "left", keys: ["SHIFT"] }]));
    assert.match(r.result.output.image_url ?? "", /^data:image\/png;base64,/);
    await eventually("xev saw buttons 8 and 9", () => /button 8,/.test(xevOut) && /button 9,/.test(xevOut));
    await eventually("xev saw a shifted left click", () => /ButtonPress[\s\S]*?state 0x1, button 1,/.test(xevOut));
  });

  it("drags a window along a multi-point path", async () => {
    const xev = (await windows()).find((w) => w.title === "xevwin")!;
    // the title bar, a few pixels above the client area
    const [sx, sy] = shot(xev.x + 100, xev.y - 8);
    const path = [{ x: sx, y: sy }, { x: sx - 100, y: sy + 20 }, { x: sx - 150, y: sy - 60 }];
    await openaiStep(call([{ type: "drag", path }]));
    await eventually("the window moved", async () => {
      const now = (await windows()).find((w) => w.id === xev.id)!;
      return Math.abs(now.x - xev.x + 211) <= 3 && Math.abs(now.y - xev.y + 70) <= 3;
    });
  });

  it("passes pending safety checks back, acknowledged on request", async () => {
    const c = call([{ type: "screenshot" }]);
    c.pending_safety_checks = [{ id: "sc_1", code: "sensitive_domain", message: "careful" }];
    const r = await openaiStep(c, { acknowledgeSafetyChecks: true });
    assert.deepEqual(r.result.acknowledged_safety_checks, c.pending_safety_checks);
    assert.deepEqual(r.glasspane.pendingSafetyChecks, c.pending_safety_checks);
  });
});

describe("batches (computer toolset)", () => {
  it("stops at the first failure; later actions are answered as skipped and not executed", async () => {
    const typing = await windowTitled("typing");
    const [cx, cy] = shot(typing.x + 50, typing.y + 30);
    const before = readFileSync(typedPath, "utf8");
    const turn: BetaComputerToolUseBlock[] = [
      { type: "tool_use", id: "b1", name: "left_click", toolset_name: "computer", input: { coordinate: [cx, cy] } },
      { type: "tool_use", id: "b2", name: "type", toolset_name: "computer", input: { text: "one\n" } },
      { type: "tool_use", id: "b3", name: "key", toolset_name: "computer", input: { text: "NoSuchKeyName" } },
      { type: "tool_use", id: "b4", name: "type", toolset_name: "computer", input: { text: "two\n" } },
      { type: "tool_use", id: "b5", name: "screenshot", toolset_name: "computer", input: {} },
    ];
    const r = await step<BetaToolResultBlockParam[]>({ dialect: "anthropic", tool: toolset, content: turn });
    assert.deepEqual(r.result.map((x) => [x.tool_use_id, x.is_error ?? false, x.toolset_name]), [
      ["b1", false, "computer"],
      ["b2", false, "computer"],
      ["b3", true, "computer"],
      ["b4", true, "computer"],
      ["b5", true, "computer"],
    ]);
    assert.match(textOf(r.result[2]!), /unknown key name/);
    assert.match(textOf(r.result[3]!), /not executed: an earlier action failed/);
    assert.match(textOf(r.result[4]!), /not executed/);
    await eventually("one in the file", () => readFileSync(typedPath, "utf8") === `${before}one\n`);
    await sleep(500);
    assert.equal(readFileSync(typedPath, "utf8"), `${before}one\n`, "the skipped action did not run");
  });

  it("zoom crops at full resolution and scales up to the screenshot size", async () => {
    const r = await step<BetaToolResultBlockParam[]>({
      dialect: "anthropic",
      tool: toolset,
      content: [{ type: "tool_use", id: "z", name: "zoom", toolset_name: "computer", input: { region: [0, 0, 200, 100] } }],
      settle: false,
    });
    const [zoomed] = imagesOf(r.result[0]!);
    const meta = await sharp(zoomed).metadata();
    const s = r.glasspane.scale.screenshot;
    assert.ok(meta.width! >= s.width - 1 && meta.height! <= s.height, `${meta.width}x${meta.height} within ${s.width}x${s.height}`);
  });
});

describe("native form, typing through the clipboard", () => {
  it("types a long CJK paragraph exactly (pasted) and restores the clipboard", async () => {
    await json("/v1/desktop/clipboard", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "kept", selection: "clipboard" }) });
    const typing = await windowTitled("typing");
    const before = readFileSync(typedPath, "utf8");
    const cjk = Array.from({ length: 120 }, (_, i) => String.fromCodePoint(0x4e00 + i * 7)).join("");
    const r = await step<{ results: Array<{ status: string }> }>({
      dialect: "native",
      actions: [{ type: "click", x: typing.x + 50, y: typing.y + 30 }, { type: "type", text: `${cjk}\n` }],
    });
    assert.deepEqual(r.result.results.map((x) => x.status), ["ok", "ok"]);
    await eventually("the paragraph in the file", () => readFileSync(typedPath, "utf8") === `${before}${cjk}\n`, 15_000);
    const clip = await json<{ text: string }>("/v1/desktop/clipboard?selection=clipboard");
    assert.equal(clip.text, "kept");
  });
});

describe("settling (XDamage)", () => {
  /** The returned screenshot must already show the final state: equal to one taken a second later. */
  async function assertSettled(answer: StepAnswer<{ screenshot: { data: string } | null }>) {
    const returned = Buffer.from(answer.result.screenshot!.data, "base64");
    await sleep(1000);
    const later = await displayShot();
    const [a, b] = await Promise.all([sharp(returned).raw().toBuffer(), sharp(later).raw().toBuffer()]);
    assert.ok(a.equals(b), `the screenshot was stale (settle ${JSON.stringify(answer.glasspane.settle)})`);
  }

  it("after Return on `sleep 0.3; echo done` the screenshot shows done", async () => {
    const shell = await windowTitled("shell");
    await step({ dialect: "native", actions: [{ type: "click", x: shell.x + 100, y: shell.y + 100 }, { type: "type", text: "clear; sleep 0.3; echo done" }] });
    const r = await step<{ screenshot: { data: string } | null }>({ dialect: "native", actions: [{ type: "key", keys: "Return" }] });
    assert.equal(r.glasspane.settle?.changed, true);
    await assertSettled(r);
  });

  it("after Return on a command that opens a zenity dialog 400 ms later the screenshot shows the dialog", async () => {
    const shell = await windowTitled("shell");
    await step({ dialect: "native", actions: [{ type: "click", x: shell.x + 100, y: shell.y + 100 }, { type: "type", text: "clear; sleep 0.4; zenity --info --text=opened" }] });
    const r = await step<{ screenshot: { data: string } | null }>({ dialect: "native", actions: [{ type: "key", keys: "Return" }] });
    assert.ok((await windows()).some((w) => /info|zenity/i.test(w.title)), `zenity's dialog is open (settle ${JSON.stringify(r.glasspane.settle)}, windows ${JSON.stringify((await windows()).map((w) => w.title))})`);
    await assertSettled(r);
    await step({ dialect: "native", actions: [{ type: "key", keys: "Return" }] });
  });

  it("a still screen answers after the first-change window", async () => {
    const r = await step<{ screenshot: unknown }>({ dialect: "native", actions: [{ type: "move", x: 1400, y: 20 }], settle: { firstChangeMs: 150, quietMs: 100 } });
    assert.equal(r.glasspane.settle?.changed, false);
    assert.ok(r.glasspane.settle!.waitedMs < 150 + 200, `waited ${r.glasspane.settle!.waitedMs} ms`);
  });

  it("POST /v1/desktop/wait: change and still, with a region", async () => {
    const shell = await windowTitled("shell");
    const waiting = json<{ changed: boolean; timedOut: boolean }>("/v1/desktop/wait", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ until: "change", timeoutMs: 10_000, region: { x: shell.x, y: shell.y, width: shell.width, height: shell.height } }),
    });
    await sleep(200);
    await step({ dialect: "native", actions: [{ type: "click", x: shell.x + 100, y: shell.y + 100 }, { type: "type", text: "echo x\n" }], settle: false });
    const changed = await waiting;
    assert.deepEqual([changed.changed, changed.timedOut], [true, false]);
    const still = await json<{ changed: boolean; timedOut: boolean }>("/v1/desktop/wait", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ until: "still", quietMs: 300, timeoutMs: 10_000 }),
    });
    assert.equal(still.timedOut, false);
    const nothing = await json<{ changed: boolean; timedOut: boolean }>("/v1/desktop/wait", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ until: "change", timeoutMs: 300, region: { x: 1300, y: 0, width: 100, height: 100 } }),
    });
    assert.deepEqual([nothing.changed, nothing.timedOut], [false, true]);
  });
});

