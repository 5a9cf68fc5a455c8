import type { FastifyRequest } from "fastify";
import { unitOf } from "../desktop-scope.js";
import type { App } from "../app.js";
import * as S from "../schemas/desktop.js";

const tags = ["desktop"];

/** `/v1/desktop/*` and `/v1/desktops/{id}/*` (relative paths; see desktop-scope.ts): validates, maps each call onto the Desktop service, nothing else. */
export function registerDesktopRoutes(app: App) {
  const desktop = (req: FastifyRequest) => unitOf(req).desktop;
  const ok = { ok: true };

  app.post("/start", { schema: { tags, summary: "Start the desktop (no-op when active)", body: S.DesktopStartRequest, response: { 200: S.DesktopStatusResponse } } }, (req) =>
    desktop(req).start(req.body ?? {}),
  );
  app.post("/stop", { schema: { tags, summary: "Stop the desktop", response: { 200: S.DesktopStatusResponse } } }, (req) => desktop(req).stop());
  app.get("/status", { schema: { tags, summary: "Desktop state, processes and windows", response: { 200: S.DesktopStatusResponse } } }, (req) =>
    desktop(req).status(),
  );
  app.get("/display/info", { schema: { tags, response: { 200: S.DesktopDisplayInfoResponse } } }, (req) => desktop(req).displayInfo());

  app.get("/screenshot", { schema: { tags, summary: "Full-screen screenshot", querystring: S.DesktopScreenshotQuery, response: { 200: S.ScreenshotResponse } } }, async (req, reply) => {
    const image = await desktop(req).screenshot(screenshotOptions(req.query));
    return reply.type(image.contentType).header("cache-control", "no-store").send(image.data);
  });
  app.get("/screenshot/region", { schema: { tags, summary: "Screenshot of a region", querystring: S.DesktopRegionScreenshotQuery, response: { 200: S.ScreenshotResponse } } }, async (req, reply) => {
    const { x, y, width, height } = req.query;
    const image = await desktop(req).screenshot(screenshotOptions(req.query), { x, y, width, height });
    return reply.type(image.contentType).header("cache-control", "no-store").send(image.data);
  });

  const position = { 200: S.DesktopMousePositionResponse };
  app.get("/mouse/position", { schema: { tags, response: position } }, (req) => desktop(req).mousePosition());
  app.post("/mouse/move", { schema: { tags, body: S.DesktopMouseMoveRequest, response: position } }, (req) => desktop(req).mouseMove(req.body.x, req.body.y));
  app.post("/mouse/click", { schema: { tags, body: S.DesktopMouseClickRequest, response: position } }, (req) =>
    desktop(req).mouseClick(req.body.x, req.body.y, req.body.button ?? "left", req.body.clickCount ?? 1),
  );
  app.post("/mouse/down", { schema: { tags, body: S.DesktopMouseButtonRequest, response: position } }, (req) =>
    desktop(req).mouseDown(req.body.button ?? "left", req.body.x ?? undefined, req.body.y ?? undefined),
  );
  app.post("/mouse/up", { schema: { tags, body: S.DesktopMouseButtonRequest, response: position } }, (req) =>
    desktop(req).mouseUp(req.body.button ?? "left", req.body.x ?? undefined, req.body.y ?? undefined),
  );
  app.post("/mouse/drag", { schema: { tags, body: S.DesktopMouseDragRequest, response: position } }, (req) =>
    desktop(req).mouseDrag(req.body.startX, req.body.startY, req.body.endX, req.body.endY, req.body.button ?? "left"),
  );
  app.post("/mouse/scroll", { schema: { tags, body: S.DesktopMouseScrollRequest, response: position } }, (req) =>
    desktop(req).mouseScroll(req.body.x, req.body.y, req.body.deltaX ?? 0, req.body.deltaY ?? 0),
  );

  const action = { 200: S.DesktopActionResponse };
  app.post("/keyboard/type", { schema: { tags, body: S.DesktopKeyboardTypeRequest, response: action } }, async (req) => {
    await desktop(req).typeText(req.body.text, req.body.delayMs ?? 0);
    return ok;
  });
  app.post("/keyboard/press", { schema: { tags, body: S.DesktopKeyboardPressRequest, response: action } }, async (req) => {
    await desktop(req).pressKey(req.body.key, req.body.modifiers ?? undefined);
    return ok;
  });
  app.post("/keyboard/down", { schema: { tags, body: S.DesktopKeyRequest, response: action } }, async (req) => {
    await desktop(req).keyDown(req.body.key);
    return ok;
  });
  app.post("/keyboard/up", { schema: { tags, body: S.DesktopKeyRequest, response: action } }, async (req) => {
    await desktop(req).keyUp(req.body.key);
    return ok;
  });

  app.get("/clipboard", { schema: { tags, querystring: S.DesktopClipboardQuery, response: { 200: S.DesktopClipboardResponse } } }, async (req) => {
    const selection = req.query.selection ?? "clipboard";
    return { text: await desktop(req).clipboardGet(selection), selection };
  });
  app.post("/clipboard", { schema: { tags, body: S.DesktopClipboardWriteRequest, response: action } }, async (req) => {
    await desktop(req).clipboardSet(req.body.text, req.body.selection ?? "clipboard");
    return ok;
  });

  const win = { 200: S.DesktopWindowInfo };
  app.get("/windows", { schema: { tags, response: { 200: S.DesktopWindowListResponse } } }, async (req) => ({ windows: await desktop(req).windows() }));
  app.get("/windows/focused", { schema: { tags, response: win } }, (req) => desktop(req).focusedWindow());
  app.post("/windows/:id/focus", { schema: { tags, params: S.WindowIdParams, response: win } }, (req) => desktop(req).focusWindow(req.params.id));
  app.post("/windows/:id/move", { schema: { tags, params: S.WindowIdParams, body: S.DesktopWindowMoveRequest, response: win } }, (req) =>
    desktop(req).moveWindow(req.params.id, req.body.x, req.body.y),
  );
  app.post("/windows/:id/resize", { schema: { tags, params: S.WindowIdParams, body: S.DesktopWindowResizeRequest, response: win } }, (req) =>
    desktop(req).resizeWindow(req.params.id, req.body.width, req.body.height),
  );

  app.post("/launch", { schema: { tags, body: S.DesktopLaunchRequest, response: { 200: S.DesktopLaunchResponse } } }, (req) =>
    desktop(req).launch(req.body.app, req.body.args ?? [], req.body.wait ?? false),
  );
  app.post("/open", { schema: { tags, body: S.DesktopOpenRequest, response: { 200: S.DesktopOpenResponse } } }, (req) =>
    desktop(req).open(req.body.target),
  );
}

function screenshotOptions(q: { format?: "png" | "jpeg" | "webp" | null; quality?: number | null; scale?: number | null; showCursor?: boolean | null }) {
  return { format: q.format ?? "png", quality: q.quality ?? 85, scale: q.scale ?? 1, showCursor: q.showCursor ?? false };
}
