import type { IncomingMessage, ServerResponse } from "node:http";
import { Ajv, type ValidateFunction } from "ajv";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { invalid } from "../shared/errors.js";
import { failure } from "./results.js";
import { TOOLS, type McpTool } from "./tools.js";
import type { McpEndpoint, McpServices } from "./types.js";

/**
 * The protocol SDK (and the zod it brings, some hundred files) loads on the first MCP
 * request, not at server start: a server started under a low descriptor limit (`ulimit -n
 * 256`) would otherwise run out while the module loader opens them all at once.
 */
let sdkModules: Promise<[typeof import("@modelcontextprotocol/sdk/server/index.js"), typeof import("@modelcontextprotocol/sdk/server/streamableHttp.js"), typeof import("@modelcontextprotocol/sdk/types.js")]> | undefined;
const sdk = () =>
  (sdkModules ??= Promise.all([
    import("@modelcontextprotocol/sdk/server/index.js"),
    import("@modelcontextprotocol/sdk/server/streamableHttp.js"),
    import("@modelcontextprotocol/sdk/types.js"),
  ]));

/** JSON Schema as the wire carries it (TypeBox schemas are JSON Schema already). */
const plain = (schema: object) => JSON.parse(JSON.stringify(schema)) as Tool["inputSchema"];

/**
 * The MCP server (streamable HTTP, stateless: every POST is answered on its own, so no
 * session outlives a request and any number of clients may call at once). Tool arguments
 * are validated as the HTTP routes validate bodies: the same schemas, strict types,
 * unknown fields rejected.
 */
export class McpFrontDoor implements McpEndpoint {
  private readonly tools = new Map<string, { tool: McpTool; validate: ValidateFunction }>();
  private readonly listing: Tool[];

  constructor(
    private readonly services: McpServices,
    private readonly info: { name: string; version: string },
  ) {
    const ajv = new Ajv({ useDefaults: true, allErrors: false, strict: false, removeAdditional: false, coerceTypes: false });
    for (const tool of TOOLS) this.tools.set(tool.name, { tool, validate: ajv.compile(tool.input) });
    this.listing = TOOLS.map((t) => ({
      name: t.name,
      description: t.description,
      inputSchema: plain(t.input),
      ...(t.output ? { outputSchema: plain(t.output) as Tool["outputSchema"] } : {}),
      ...(t.annotations ? { annotations: t.annotations } : {}),
    }));
  }

  /** A protocol server with the tools; one per request. */
  private async server(): Promise<Server> {
    const [{ Server }, , { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError }] = await sdk();
    const server = new Server(this.info, {
      capabilities: { tools: {} },
      instructions:
        "Tools of a Linux desktop (screenshot, computer, click, type, key, ...) and of the machine it runs on (run_command, read_file, write_file). Take a screenshot first; coordinates are display pixels unless the computer tool is given a screenshotSize.",
    });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: this.listing }));
    server.setRequestHandler(CallToolRequestSchema, async (request) => {
      const entry = this.tools.get(request.params.name);
      if (!entry) throw new McpError(ErrorCode.InvalidParams, `unknown tool "${request.params.name}"`);
      const args = structuredClone(request.params.arguments ?? {});
      try {
        if (!entry.validate(args)) {
          const e = entry.validate.errors?.[0];
          throw invalid(`${request.params.name}: arguments${e?.instancePath ?? ""} ${e?.message ?? "are invalid"}`);
        }
        return await entry.tool.run(args, this.services);
      } catch (err) {
        return failure(err);
      }
    });
    return server;
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const server = await this.server();
    const { StreamableHTTPServerTransport } = (await sdk())[1];
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }
}
