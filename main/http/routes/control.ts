import type { WebSocket } from "ws";
import type { ControlLease, Desktop } from "../../desktop/types.js";
import { unitOf } from "../desktop-scope.js";
import { decodeInput, InputRelay } from "../../stream/input.js";
import type { App } from "../app.js";
import * as S from "../schemas/desktop.js";

const tags = ["desktop"];

/**
 * `GET /v1/desktop/control/ws`: a person's control lease, held while this socket is open.
 * Client frames: binary input in the stream data channel's layout (u8 event, u16 length,
 * payload), text `{type: "clipboard", text}` (sets both selections) and `{type: "release"}`.
 * Server frames: `{type: "granted", control}`, `{type: "released", reason}` (then it closes),
 * `{type: "error", message}` for an input the desktop refused.
 * While the lease is held, every other client's input answers 409 `control_held`.
 */
export function registerControlRoutes(app: App) {
  app.get(
    "/control/ws",
    {
      websocket: true,
      schema: { tags, operationId: "get_v1_desktop_control_ws", summary: "Take control of the desktop's input (WebSocket; the lease lasts while it is open)", querystring: S.DesktopControlQuery },
      // a lease held by someone else is refused before the upgrade, as a problem+json 409
      preValidation: async (req) => {
        const q = req.query as { force?: boolean };
        if (!q.force) unitOf(req).desktop.control.check();
      },
    },
    (socket, req) => {
      const q = req.query as { holder?: string; force?: boolean };
      const desktop = unitOf(req).desktop;
      let lease: ControlLease;
      try {
        lease = desktop.control.take(q.holder ?? "a person", { force: q.force });
      } catch (err) {
        socket.send(JSON.stringify({ type: "released", reason: (err as Error).message }));
        socket.close(4409, "control held");
        return;
      }
      attachControlSocket(socket, lease, desktop);
    },
  );
}

function attachControlSocket(socket: WebSocket, lease: ControlLease, desktop: Desktop) {
  const send = (frame: object) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(frame));
  let screen = { width: 1, height: 1 };
  void desktop.displayInfo().then((d) => (screen = d.resolution), () => undefined);
  const relay = new InputRelay(desktop, () => screen);
  // the id lets the holder's other socket (the stream's WebSocket transport) send input as the holder
  send({ type: "granted", control: lease.info, lease: lease.id });
  void lease.ended.then((reason) => {
    send({ type: "released", reason });
    if (socket.readyState === socket.OPEN) socket.close(1000, reason);
  });
  socket.on("close", () => lease.release());
  socket.on("error", () => lease.release());
  socket.on("message", (data, isBinary) => {
    lease.touch();
    if (isBinary) {
      const events = decodeInput(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer));
      lease.run(() => relay.push(events));
      return;
    }
    let frame: { type?: string; text?: unknown };
    try {
      frame = JSON.parse(data.toString());
    } catch {
      return send({ type: "error", message: "a text frame must be JSON" });
    }
    if (frame.type === "release") lease.release();
    else if (frame.type === "clipboard" && typeof frame.text === "string") {
      lease.run(() => desktop.clipboardSet(frame.text as string, "both")).catch((err) => send({ type: "error", message: (err as Error).message }));
    } else send({ type: "error", message: 'expected {type: "clipboard", text} or {type: "release"}' });
  });
}
