import type { AgentRuns } from "../../sessions/types.js";
import type { Volumes } from "../../volumes/types.js";
import type { App } from "../app.js";
import { AgentParams } from "../schemas/sessions.js";
import * as S from "../schemas/workspace.js";

const tags = ["agents"];
const KEEPALIVE_MS = 15_000;
/** What the `ai` package's UI message stream responses carry (UI_MESSAGE_STREAM_HEADERS). */
const STREAM_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-vercel-ai-ui-message-stream": "v1",
  "x-accel-buffering": "no",
};

/** `POST /v1/agents/{agent}/run`: one prompt, answered as the AI SDK UI message stream over SSE. */
export function registerAgentRunRoutes(app: App, runs: AgentRuns, volumes: Volumes) {
  app.post(
    "/v1/agents/:agent/run",
    { schema: { tags, operationId: "post_v1_agent_run", summary: "Run the agent on one prompt; the answer streams as the AI SDK UI message stream", params: AgentParams, body: S.AgentRunRequest, response: { 200: S.AgentRunStream } } },
    async (req, reply) => {
      const b = req.body;
      const cwd = b.volume ? await volumes.workingDirectory(b.volume, b.cwd) : await volumes.fs().resolveDirectory(b.cwd, false);
      const abort = new AbortController();
      const stream = runs.run(req.params.agent, { ...b, cwd }, abort.signal);
      // the first chunk comes once the agent has a session: a refusal before it is a problem answer
      const first = await stream.next();
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, STREAM_HEADERS);
      let finished = false;
      res.on("close", () => {
        if (!finished) abort.abort();
      });
      // the client may have left while the agent was starting
      if (res.destroyed || req.raw.socket?.destroyed) abort.abort();
      const keepalive = setInterval(() => res.write(": keepalive\n\n"), KEEPALIVE_MS);
      try {
        if (!first.done) res.write(`data: ${JSON.stringify(first.value)}\n\n`);
        for await (const chunk of stream) {
          if (res.destroyed) break;
          res.write(`data: ${JSON.stringify(chunk)}\n\n`);
        }
        res.write("data: [DONE]\n\n");
      } catch (err) {
        if (!res.destroyed) res.write(`data: ${JSON.stringify({ type: "error", errorText: (err as Error).message })}\n\n`);
      } finally {
        finished = true;
        clearInterval(keepalive);
        res.end();
      }
    },
  );
}
