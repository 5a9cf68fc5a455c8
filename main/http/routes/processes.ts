import { PassThrough } from "node:stream";
import { Value } from "typebox/value";
import type { WebSocket } from "ws";
import type { Processes, ProcessLogEntry } from "../../processes/types.js";
import type { Volumes } from "../../volumes/types.js";
import { invalid } from "../../shared/errors.js";
import type { App } from "../app.js";
import * as S from "../schemas/processes.js";

const tags = ["processes"];
/** SSE comment lines keep proxies and idle timeouts from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;
/** Terminal output queued for a slow client before the terminal is paused, and the level it resumes at. */
const SOCKET_HIGH_WATER = 4 * 1024 * 1024;
const SOCKET_LOW_WATER = 512 * 1024;
/** Log events queued for a follow client that does not read before its stream is ended. */
const SSE_MAX_QUEUED = 32 * 1024 * 1024;

/** `/v1/processes/*`: validates, maps each call onto the process service; logs follow over SSE, terminals over a WebSocket. */
export function registerProcessRoutes(app: App, processes: Processes, volumes: Volumes) {
  // `volume`: the process starts in that volume's folder (`cwd` then lies inside it)
  const inVolume = async <T extends { volume?: string | null; cwd?: string | null }>(body: T): Promise<Omit<T, "volume">> => {
    const { volume, ...rest } = body;
    return volume ? { ...rest, cwd: await volumes.workingDirectory(volume, rest.cwd) } : rest;
  };
  const info = { 200: S.ProcessInfo };
  // open follow streams end when the server closes, or they would hold its close forever
  const following = new Set<() => void>();
  app.addHook("preClose", async () => {
    for (const finish of following) finish();
  });

  app.get("/v1/processes/config", { schema: { tags, operationId: "get_v1_processes_config", response: { 200: S.ProcessConfig } } }, () => processes.config());
  app.post("/v1/processes/config", { schema: { tags, operationId: "post_v1_processes_config", summary: "Replace the runtime limits (all fields)", body: S.ProcessConfig, response: { 200: S.ProcessConfig } } }, (req) =>
    processes.setConfig(req.body),
  );
  app.post("/v1/processes/run", { schema: { tags, operationId: "post_v1_processes_run", summary: "Run a command to completion", body: S.ProcessRunInVolume, response: { 200: S.ProcessRunResponse } } }, (req) =>
    inVolume(req.body).then((body) => processes.run(body)),
  );
  app.post("/v1/processes", { schema: { tags, operationId: "post_v1_processes", summary: "Start a managed process", body: S.ProcessCreateInVolume, response: info } }, (req) =>
    inVolume(req.body).then((body) => processes.create(body)),
  );
  app.get("/v1/processes", { schema: { tags, operationId: "get_v1_processes", summary: "Running and exited processes, the desktop's included", querystring: S.ProcessListQuery, response: { 200: S.ProcessListResponse } } }, (req) => ({
    processes: processes.list(req.query.owner, req.query.desktopId),
  }));
  app.get("/v1/processes/:id", { schema: { tags, operationId: "get_v1_process", params: S.ProcessIdParams, response: info } }, (req) => processes.get(req.params.id));
  app.delete("/v1/processes/:id", { schema: { tags, operationId: "delete_v1_process", summary: "Forget an exited process and delete its logs", params: S.ProcessIdParams, response: { 204: { type: "null", description: "deleted" } } } }, (req, reply) => {
    processes.remove(req.params.id);
    void reply.code(204).send(null);
  });
  app.post("/v1/processes/:id/stop", { schema: { tags, operationId: "post_v1_process_stop", summary: "SIGTERM", params: S.ProcessIdParams, querystring: S.ProcessSignalQuery, response: info } }, (req) =>
    processes.stop(req.params.id, req.query.waitMs),
  );
  app.post("/v1/processes/:id/kill", { schema: { tags, operationId: "post_v1_process_kill", summary: "SIGKILL", params: S.ProcessIdParams, querystring: S.ProcessSignalQuery, response: info } }, (req) =>
    processes.kill(req.params.id, req.query.waitMs),
  );
  app.post("/v1/processes/:id/input", { schema: { tags, operationId: "post_v1_process_input", summary: "Write to stdin or the terminal", params: S.ProcessIdParams, body: S.ProcessInputRequest, response: { 200: S.ProcessInputResponse } } }, (req) =>
    processes.input(req.params.id, req.body.data, req.body.encoding ?? undefined),
  );
  app.post("/v1/processes/:id/terminal/resize", { schema: { tags, operationId: "post_v1_process_terminal_resize", params: S.ProcessIdParams, body: S.ProcessTerminalResizeRequest, response: { 200: S.ProcessTerminalResizeResponse } } }, (req) =>
    processes.resizeTerminal(req.params.id, req.body.cols, req.body.rows),
  );

  app.get("/v1/processes/:id/logs", { schema: { tags, operationId: "get_v1_process_logs", summary: "Output entries; follow=true streams them as text/event-stream", params: S.ProcessIdParams, querystring: S.ProcessLogsQuery, response: { 200: S.ProcessLogsResponse } } }, (req, reply) => {
    const { follow, ...query } = req.query;
    if (!follow) return processes.logs(req.params.id, query);
    // Server-sent events: `event: log` per entry (the SDK's followProcessLogs), ended once the process has exited.
    const body = new PassThrough();
    const send = (e: ProcessLogEntry) => {
      if (body.writableEnded) return;
      // a client that stops reading must not make the server queue a chatty process's output forever
      if (body.writableLength > SSE_MAX_QUEUED) {
        body.write(`: the client fell behind; reconnect with since=${e.sequence - 1}\n\n`);
        return finish();
      }
      body.write(`event: log\nid: ${e.sequence}\ndata: ${JSON.stringify(e)}\n\n`);
    };
    const keepalive = setInterval(() => body.write(":\n\n"), KEEPALIVE_MS);
    const finish = () => {
      clearInterval(keepalive);
      following.delete(finish);
      if (!body.writableEnded) body.end();
    };
    following.add(finish);
    const subscription = processes.followLogs(req.params.id, query, send, finish);
    reply.raw.once("close", () => {
      subscription.close();
      finish();
    });
    void reply
      .type("text/event-stream")
      .header("cache-control", "no-cache")
      .header("x-accel-buffering", "no")
      .send(body as never);
  });

  app.get(
    "/v1/processes/:id/terminal/ws",
    {
      websocket: true,
      schema: { tags, operationId: "get_v1_process_terminal_ws", params: S.ProcessIdParams, querystring: S.ProcessTerminalQuery },
      // answered before the upgrade, so a client sees 400/404/409 as a problem, not a closed socket
      preValidation: async (req) => {
        if (!(req as unknown as { ws?: boolean }).ws) throw invalid("this is a WebSocket endpoint: connect with Upgrade: websocket");
        processes.checkTerminal((req.params as { id: string }).id);
      },
    },
    (socket, req) => attachTerminalSocket(socket, (req.params as { id: string }).id, processes),
  );
}

/**
 * The SDK's terminal protocol: server text frames `ready` / `exit` / `error`, binary
 * frames of terminal output; client text frames `input` / `resize` / `close`.
 */
function attachTerminalSocket(socket: WebSocket, id: string, processes: Processes) {
  const sendJson = (frame: object) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
  };
  sendJson({ type: "ready", processId: id });
  let attachment: ReturnType<Processes["attachTerminal"]>;
  let draining: NodeJS.Timeout | undefined;
  // a client that reads slower than the program writes pauses the terminal, as a real one would
  const throttle = () => {
    if (draining || socket.bufferedAmount < SOCKET_HIGH_WATER) return;
    attachment.pause();
    draining = setInterval(() => {
      if (socket.readyState === socket.OPEN && socket.bufferedAmount > SOCKET_LOW_WATER) return;
      clearInterval(draining);
      draining = undefined;
      attachment.resume();
    }, 20);
  };
  try {
    attachment = processes.attachTerminal(id, {
      data: (bytes) => {
        if (socket.readyState !== socket.OPEN) return;
        socket.send(bytes, { binary: true });
        throttle();
      },
      exit: (exitCode) => {
        sendJson({ type: "exit", exitCode });
        socket.close(1000);
      },
    });
  } catch (err) {
    sendJson({ type: "error", message: (err as Error).message });
    socket.close(1011);
    return;
  }
  socket.on("close", () => {
    clearInterval(draining);
    attachment.detach();
  });
  socket.on("message", (raw, isBinary) => {
    if (isBinary) return sendJson({ type: "error", message: "binary input is not supported; send text JSON frames" });
    let frame: unknown;
    try {
      frame = JSON.parse(raw.toString());
    } catch {
      return sendJson({ type: "error", message: "invalid terminal frame: not JSON" });
    }
    if (!Value.Check(S.TerminalClientFrame, frame)) {
      return sendJson({ type: "error", message: `invalid terminal frame: expected {type: "input", data} | {type: "resize", cols, rows} | {type: "close"}` });
    }
    const f = frame as { type: "input"; data: string; encoding?: string } | { type: "resize"; cols: number; rows: number } | { type: "close" };
    if (f.type === "input") attachment.write(Buffer.from(f.data, f.encoding === "base64" ? "base64" : "utf8"));
    else if (f.type === "resize") attachment.resize(f.cols, f.rows);
    else socket.close(1000);
  });
}
