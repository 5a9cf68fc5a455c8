import type { IncomingMessage, ServerResponse } from "node:http";
import type { ComputerActions } from "../actions/types.js";
import type { Desktop } from "../desktop/types.js";
import type { FileSystem } from "../fs/types.js";
import type { Processes } from "../processes/types.js";

/** The services the MCP tools run on, through their interfaces (never HTTP to ourselves). */
export interface McpServices {
  desktop: Desktop;
  processes: Processes;
  fs: FileSystem;
  actions: ComputerActions;
}

/**
 * The MCP front door as the HTTP layer sees it: one streamable-HTTP request, already
 * authenticated and with its JSON body parsed; the endpoint writes the whole answer.
 */
export interface McpEndpoint {
  handle(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void>;
}
