// Issue 13, items 10 and 11: one set of limits, checked in the service layer and shown by
// the schemas; the capture fallback says why.
import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { LIMITS } from "../main/shared/limits.js";
import * as S from "../main/http/schemas/desktop.js";
import { DesktopService } from "../main/desktop/desktop.js";
import { ProcessManager } from "../main/processes/manager.js";
import { GlasspaneError } from "../main/shared/errors.js";
import { startServer } from "./support/server.js";

type Props = Record<string, { anyOf?: Array<{ minimum?: number; maximum?: number }>; minimum?: number; maximum?: number; maxLength?: number }>;
const range = (schema: unknown, field: string) => {
  const p = (schema as { properties: Props }).properties[field]!;
  const s = p.anyOf ? p.anyOf[0]! : p;
  return { min: s.minimum, max: s.maximum };
};

test("the HTTP schemas take their ranges from shared/limits.ts", () => {
  assert.deepEqual(range(S.DesktopMouseClickRequest, "clickCount"), LIMITS.clickCount);
  assert.deepEqual(range(S.DesktopMouseScrollRequest, "deltaY"), { min: -LIMITS.scrollNotches.max, max: LIMITS.scrollNotches.max });
  assert.deepEqual(range(S.DesktopWindowResizeRequest, "width"), LIMITS.windowSize);
  assert.deepEqual(range(S.DesktopWindowMoveRequest, "x"), LIMITS.coordinate);
  assert.equal(range(S.DesktopMouseMoveRequest, "x").max, LIMITS.coordinate.max);
  assert.deepEqual(range(S.DesktopStartRequest, "width"), LIMITS.screenSize);
  assert.equal((S.DesktopKeyboardTypeRequest as unknown as { properties: Props }).properties.text!.maxLength, LIMITS.typeTextLength.max);
});

test("the desktop service checks the same limits itself, whoever calls it", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "glasspane-limits-"));
  const processes = new ProcessManager(dir);
  const desktop = new DesktopService(processes, dir);
  const refused = async (what: string, call: () => unknown) => {
    await assert.rejects(async () => call(), (err: unknown) => err instanceof GlasspaneError && err.status === 400, what);
  };
  try {
    await refused("clickCount 11", () => desktop.mouseClick(1, 1, "left", LIMITS.clickCount.max + 1));
    await refused("clickCount 0", () => desktop.mouseClick(1, 1, "left", 0));
    await refused("scroll past the limit", () => desktop.mouseScroll(1, 1, 0, LIMITS.scrollNotches.max + 1));
    await refused("fractional scroll", () => desktop.mouseScroll(1, 1, 0, 1.5));
    await refused("resize 0", () => desktop.resizeWindow("1", 0, 10));
    await refused("resize past X11", () => desktop.resizeWindow("1", LIMITS.windowSize.max + 1, 10));
    await refused("move past X11", () => desktop.moveWindow("1", LIMITS.coordinate.max + 1, 0));
    await refused("text too long", () => desktop.typeText("x".repeat(LIMITS.typeTextLength.max + 1), 0));
    await refused("key too long", () => desktop.pressKey("k".repeat(LIMITS.keyNameLength.max + 1)));
    await refused("screen too big", () => desktop.start({ width: LIMITS.screenSize.max + 1 }));
    assert.equal((await desktop.status()).state, "inactive");
  } finally {
    await processes.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the capture fallback reason shows in status and runtime.log", { timeout: 120_000 }, async () => {
  const s = await startServer({ desktop: true, env: { GLASSPANE_NATIVE_CAPTURE: "0" } });
  try {
    const status = (await (await s.fetch("/v1/desktop/status")).json()) as { capturePath: string; captureFallbackReason: string | null; runtimeLogPath: string };
    assert.notEqual(status.capturePath, "native-shm");
    assert.match(status.captureFallbackReason ?? "", /native-shm: disabled by GLASSPANE_NATIVE_CAPTURE/);
    assert.match(readFileSync(status.runtimeLogPath, "utf8"), /capture fell back to .*disabled by GLASSPANE_NATIVE_CAPTURE/);
  } finally {
    await s.stop();
  }
});
