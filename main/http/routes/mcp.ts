import { Type } from "typebox";
import type { McpEndpoint } from "../../mcp/types.js";
import { problem, PROBLEM_CONTENT_TYPE, sendProblem } from "../problem.js";
import type { App } from "../app.js";

const tags = ["mcp"];

/**
 * `/v1/mcp`: the MCP server over streamable HTTP (JSON-RPC in a POST body). The auth hook
 * has already checked the token; the endpoint writes the answer itself. The server is
 * stateless, so there is no GET event stream and no session to DELETE.
 */
export function registerMcpRoutes(app: App, mcp: McpEndpoint) {
  app.post(
    "/v1/mcp",
    {
      schema: {
        tags,
        summary: "Model Context Protocol (streamable HTTP): JSON-RPC requests to the desktop, process and file tools",
        body: Type.Unknown({ description: "one JSON-RPC message or a batch (the MCP server judges it)" }),
      },
    },
    async (req, reply) => {
      // streamable HTTP requires a client that takes both answers; said as a problem, not the transport's bare JSON-RPC error
      const accept = String(req.headers.accept ?? "");
      if (!accept.includes("application/json") || !accept.includes("text/event-stream")) {
        return sendProblem(reply, problem("not_acceptable", 406, "an MCP client must accept both application/json and text/event-stream (Accept header)"));
      }
      reply.hijack();
      try {
        await mcp.handle(req.raw, reply.raw, req.body);
      } catch (err) {
        req.log.error(err);
        if (!reply.raw.headersSent) {
          const p = problem("internal", 500, `MCP request failed: ${(err as Error).message}`);
          reply.raw.writeHead(p.status, { "content-type": PROBLEM_CONTENT_TYPE }).end(JSON.stringify(p));
        } else reply.raw.destroy();
      }
    },
  );
  for (const method of ["GET", "DELETE"] as const) {
    app.route({
      method,
      url: "/v1/mcp",
      schema: { tags, summary: "Not offered: the MCP server is stateless (no event stream, no session)" },
      handler: (_req, reply) =>
        sendProblem(reply.header("allow", "POST"), problem("method_not_allowed", 405, "the MCP endpoint is stateless: POST JSON-RPC messages to it")),
    });
  }
}
