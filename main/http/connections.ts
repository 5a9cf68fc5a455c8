import type { Server } from "node:http";
import type { Socket } from "node:net";
import type { FastifyInstance } from "fastify";
import { problem, PROBLEM_CONTENT_TYPE } from "./problem.js";
import { hasBody, isUpgrade } from "./rules.js";

/**
 * A request body may take as long as it needs, but not stall: no byte for this long while
 * it is arriving ends the connection. (No total request timeout: a slow upload of a large
 * file is fine, and a long call, e.g. a process run, is bounded by its own deadline.)
 */
export const BODY_IDLE_TIMEOUT_MS = 60_000;

/** How long open connections may finish their answers once the server closes; then they are cut. */
export const CLOSE_GRACE_MS = 3000;

/**
 * Node's own answers to broken requests (header too large, bad Content-Length, a stalled
 * client) as problem+json, written straight to the socket, which is then closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException & { reason?: string }, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const [status, code, detail] =
    err.code === "HPE_HEADER_OVERFLOW"
      ? [431, "headers_too_large", "the request's headers (or its URL) are too large"]
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT" || err.code === "ERR_HTTP_HEADERS_TIMEOUT"
        ? [408, "timeout", "the request did not arrive in time"]
        : [400, "invalid_request", `malformed HTTP request (${err.code ?? "parse error"}${err.reason ? `: ${err.reason}` : ""})`];
  const body = JSON.stringify(problem(code, status, detail));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${statusText(status)}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

function statusText(status: number): string {
  return status === 431 ? "Request Header Fields Too Large" : status === 408 ? "Request Timeout" : "Bad Request";
}

/**
 * An upgrade request that is answered with an error instead of 101 says `Connection: close`
 * and its socket is closed: after a refused handshake the connection is in no state for
 * another request, and a socket left open would hold the server's close forever.
 * Every connection is also tracked, so closing the server cuts what is still open after a grace.
 */
export function manageConnections(app: FastifyInstance): void {
  app.addHook("onSend", async (request, reply, payload) => {
    if (isUpgrade(request) && !reply.raw.headersSent) reply.header("connection", "close");
    return payload;
  });
  app.addHook("onResponse", async (request, reply) => {
    if (isUpgrade(request)) reply.raw.socket?.destroy();
  });

  app.addHook("onRequest", async (request) => {
    const socket = request.raw.socket;
    if (!hasBody(request) || !socket) return;
    socket.setTimeout(BODY_IDLE_TIMEOUT_MS, () => socket.destroy());
    request.raw.once("end", () => socket.setTimeout(0));
    request.raw.once("close", () => socket.setTimeout(0));
  });

  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const server = app.server as Server;
  server.on("connection", track);
  server.on("upgrade", (_req, socket: Socket) => track(socket));
  app.addHook("preClose", async () => {
    const cut = setTimeout(() => {
      for (const s of sockets) s.destroy();
    }, CLOSE_GRACE_MS);
    cut.unref();
    server.once("close", () => clearTimeout(cut));
  });
}
