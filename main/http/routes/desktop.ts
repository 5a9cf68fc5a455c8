import type { Desktop } from "../../desktop/types.js";
import type { App } from "../app.js";
import * as S from "../schemas/desktop.js";

const tags = ["desktop"];

/** `/v1/desktop/*`: validates, maps each call onto the Desktop service, nothing else. */
export function registerDesktopRoutes(app: App, desktop: Desktop) {
  const ok = { ok: true };

  app.post("/v1/desktop/start", { schema: { tags, summary: "Start the desktop (no-op when active)", body: S.DesktopStartRequest, response: { 200: S.DesktopStatusResponse } } }, (req) =>
    desktop.start(req.body ?? {}),
  );
  app.post("/v1/desktop/stop", { schema: { tags, summary: "Stop the desktop", response: { 200: S.DesktopStatusResponse } } }, () => desktop.stop());
  app.get("/v1/desktop/status", { schema: { tags, summary: "Desktop state, processes and windows", response: { 200: S.DesktopStatusResponse } } }, () =>
    desktop.status(),
  );
  app.get("/v1/desktop/display/info", { schema: { tags, response: { 200: S.DesktopDisplayInfoResponse } } }, () => desktop.displayInfo());

  app.get("/v1/desktop/screenshot", { schema: { tags, summary: "Full-screen screenshot", querystring: S.DesktopScreenshotQuery, response: { 200: S.ScreenshotResponse } } }, async (req, reply) => {
    const image = await desktop.screenshot(screenshotOptions(req.query));
    return reply.type(image.contentType).header("cache-control", "no-store").send(image.data);
  });
  app.get("/v1/desktop/screenshot/region", { schema: { tags, summary: "Screenshot of a region", querystring: S.DesktopRegionScreenshotQuery, response: { 200: S.ScreenshotResponse } } }, async (req, reply) => {
    const { x, y, width, height } = req.query;
    const image = await desktop.screenshot(screenshotOptions(req.query), { x, y, width, height });
    return reply.type(image.contentType).header("cache-control", "no-store").send(image.data);
  });

  const position = { 200: S.DesktopMousePositionResponse };
  app.get("/v1/desktop/mouse/position", { schema: { tags, response: position } }, () => desktop.mousePosition());
  app.post("/v1/desktop/mouse/move", { schema: { tags, body: S.DesktopMouseMoveRequest, response: position } }, (req) => desktop.mouseMove(req.body.x, req.body.y));
  app.post("/v1/desktop/mouse/click", { schema: { tags, body: S.DesktopMouseClickRequest, response: position } }, (req) =>
    desktop.mouseClick(req.body.x, req.body.y, req.body.button ?? "left", req.body.clickCount ?? 1),
  );
  app.post("/v1/desktop/mouse/down", { schema: { tags, body: S.DesktopMouseButtonRequest, response: position } }, (req) =>
    desktop.mouseDown(req.body.button ?? "left", req.body.x ?? undefined, req.body.y ?? undefined),
  );
  app.post("/v1/desktop/mouse/up", { schema: { tags, body: S.DesktopMouseButtonRequest, response: position } }, (req) =>
    desktop.mouseUp(req.body.button ?? "left", req.body.x ?? undefined, req.body.y ?? undefined),
  );
  app.post("/v1/desktop/mouse/drag", { schema: { tags, body: S.DesktopMouseDragRequest, response: position } }, (req) =>
    desktop.mouseDrag(req.body.startX, req.body.startY, req.body.endX, req.body.endY, req.body.button ?? "left"),
  );
  app.post("/v1/desktop/mouse/scroll", { schema: { tags, body: S.DesktopMouseScrollRequest, response: position } }, (req) =>
    desktop.mouseScroll(req.body.x, req.body.y, req.body.deltaX ?? 0, req.body.deltaY ?? 0),
  );

  const action = { 200: S.DesktopActionResponse };
  app.post("/v1/desktop/keyboard/type", { schema: { tags, body: S.DesktopKeyboardTypeRequest, response: action } }, async (req) => {
    await desktop.typeText(req.body.text, req.body.delayMs ?? 0);
    return ok;
  });
  app.post("/v1/desktop/keyboard/press", { schema: { tags, body: S.DesktopKeyboardPressRequest, response: action } }, async (req) => {
    await desktop.pressKey(req.body.key, req.body.modifiers ?? undefined);
    return ok;
  });
  app.post("/v1/desktop/keyboard/down", { schema: { tags, body: S.DesktopKeyRequest, response: action } }, async (req) => {
    await desktop.keyDown(req.body.key);
    return ok;
  });
  app.post("/v1/desktop/keyboard/up", { schema: { tags, body: S.DesktopKeyRequest, response: action } }, async (req) => {
    await desktop.keyUp(req.body.key);
    return ok;
  });

  app.get("/v1/desktop/clipboard", { schema: { tags, querystring: S.DesktopClipboardQuery, response: { 200: S.DesktopClipboardResponse } } }, async (req) => {
    const selection = req.query.selection ?? "clipboard";
    return { text: await desktop.clipboardGet(selection), selection };
  });
  app.post("/v1/desktop/clipboard", { schema: { tags, body: S.DesktopClipboardWriteRequest, response: action } }, async (req) => {
    await desktop.clipboardSet(req.body.text, req.body.selection ?? "clipboard");
    return ok;
  });

  const win = { 200: S.DesktopWindowInfo };
  app.get("/v1/desktop/windows", { schema: { tags, response: { 200: S.DesktopWindowListResponse } } }, async () => ({ windows: await desktop.windows() }));
  app.get("/v1/desktop/windows/focused", { schema: { tags, response: win } }, () => desktop.focusedWindow());
  app.post("/v1/desktop/windows/:id/focus", { schema: { tags, params: S.WindowIdParams, response: win } }, (req) => desktop.focusWindow(req.params.id));
  app.post("/v1/desktop/windows/:id/move", { schema: { tags, params: S.WindowIdParams, body: S.DesktopWindowMoveRequest, response: win } }, (req) =>
    desktop.moveWindow(req.params.id, req.body.x, req.body.y),
  );
  app.post("/v1/desktop/windows/:id/resize", { schema: { tags, params: S.WindowIdParams, body: S.DesktopWindowResizeRequest, response: win } }, (req) =>
    desktop.resizeWindow(req.params.id, req.body.width, req.body.height),
  );

  app.post("/v1/desktop/launch", { schema: { tags, body: S.DesktopLaunchRequest, response: { 200: S.DesktopLaunchResponse } } }, (req) =>
    desktop.launch(req.body.app, req.body.args ?? [], req.body.wait ?? false),
  );
  app.post("/v1/desktop/open", { schema: { tags, body: S.DesktopOpenRequest, response: { 200: S.DesktopOpenResponse } } }, (req) =>
    desktop.open(req.body.target),
  );
}

function screenshotOptions(q: { format?: "png" | "jpeg" | "webp" | null; quality?: number | null; scale?: number | null; showCursor?: boolean | null }) {
  return { format: q.format ?? "png", quality: q.quality ?? 85, scale: q.scale ?? 1, showCursor: q.showCursor ?? false };
}
