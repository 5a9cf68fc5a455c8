import type { FastifyRequest } from "fastify";
import { unitOf } from "../desktop-scope.js";
import type { App } from "../app.js";
import * as S from "../schemas/stream.js";

const tags = ["desktop"];

/** `stream/*` under every desktop prefix (see desktop-scope.ts): start/stop/status and the signaling WebSocket. */
export function registerStreamRoutes(app: App) {
  const stream = (req: FastifyRequest) => unitOf(req).stream;
  const status = { 200: S.DesktopStreamStatusResponse };
  app.post(
    "/stream/start",
    {
      schema: { tags, summary: "Start the live WebRTC stream (the encoder runs while someone watches)", body: S.DesktopStreamStartRequest, response: status },
      // the SDK's startDesktopStream() posts no body at all: that means "no options"
      preValidation: async (req) => {
        req.body ??= {};
      },
    },
    (req) => stream(req).start(req.body),
  );
  app.post("/stream/stop", { schema: { tags, summary: "Stop the stream and disconnect its viewers", response: status } }, (req) => stream(req).stop());
  app.get("/stream/status", { schema: { tags, summary: "Stream state, viewers and codec", response: status } }, (req) => stream(req).status());

  app.get(
    "/stream/signaling",
    {
      websocket: true,
      schema: { tags, summary: "WebRTC signaling (WebSocket, JSON {event, payload} frames)" },
      // refused before the upgrade, as a problem+json 409
      preHandler: async (req) => stream(req).assertActive(),
    },
    (socket, req) => {
      let session;
      try {
        session = stream(req).connect({
          send: (text) => socket.send(text),
          close: (code, reason) => socket.close(code, reason),
        });
      } catch (err) {
        // stopped between the check and the upgrade
        socket.send(JSON.stringify({ event: "system/disconnect", payload: { message: (err as Error).message } }));
        socket.close(1011, "stream not active");
        return;
      }
      socket.on("message", (data) => session.message(data.toString()));
      socket.on("close", () => session.closed());
      socket.on("error", () => session.closed());
    },
  );

  app.get(
    "/stream/ws",
    {
      websocket: true,
      schema: {
        tags,
        summary: "The stream over a WebSocket (for networks where WebRTC cannot connect): binary encoded frames for WebCodecs out, input in",
      },
      preHandler: async (req) => stream(req).assertActive(),
    },
    (socket, req) => {
      let session;
      try {
        session = stream(req).connectWebSocket({
          send: (text) => socket.send(text),
          sendBinary: (data) => socket.send(data, { binary: true }),
          bufferedAmount: () => socket.bufferedAmount,
          close: (code, reason) => socket.close(code, reason),
        });
      } catch (err) {
        socket.send(JSON.stringify({ event: "system/disconnect", payload: { message: (err as Error).message } }));
        socket.close(1011, "stream not active");
        return;
      }
      socket.on("message", (data, isBinary) => session.message(isBinary ? Buffer.from(data as Buffer) : data.toString()));
      socket.on("close", () => session.closed());
      socket.on("error", () => session.closed());
    },
  );
}
