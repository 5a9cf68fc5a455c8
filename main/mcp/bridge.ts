import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { isJSONRPCRequest, type JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { DEFAULT_PROCESS_CONFIG } from "../processes/types.js";

export interface BridgeOptions {
  /** the server's base URL (http://127.0.0.1:2468) or its /v1/mcp endpoint */
  url: string;
  token?: string;
  /** where the bridge reports what went wrong (never stdout: that is the protocol) */
  log: (line: string) => void;
}

/** A tool call may legitimately run as long as the longest command run_command allows; then the bridge gives up. */
const REQUEST_DEADLINE_MS = DEFAULT_PROCESS_CONFIG.maxRunTimeoutMs + 60_000;

export function mcpEndpoint(url: string): URL {
  const u = new URL(url);
  if (!u.pathname.replace(/\/+$/, "").endsWith("/v1/mcp")) u.pathname = `${u.pathname.replace(/\/+$/, "")}/v1/mcp`;
  return u;
}

/**
 * `glasspane mcp`: relays MCP JSON-RPC between stdio (a client that only spawns commands)
 * and a running server's /v1/mcp. Each message is forwarded as it is; a request the
 * server cannot be reached for is answered with a JSON-RPC error, so no client waits for ever.
 * Resolves when stdin closes.
 */
export async function runBridge(options: BridgeOptions): Promise<void> {
  const endpoint = mcpEndpoint(options.url);
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  const http = new StreamableHTTPClientTransport(endpoint, {
    requestInit: { headers },
    fetch: (url, init) =>
      fetch(url, init?.method === "POST" ? { ...init, signal: anySignal(init.signal, AbortSignal.timeout(REQUEST_DEADLINE_MS)) } : init),
  });
  const stdio = new StdioServerTransport();

  http.onmessage = (message) => void stdio.send(message);
  http.onerror = (err) => options.log(`glasspane mcp: ${endpoint}: ${err.message}`);
  stdio.onerror = (err) => options.log(`glasspane mcp: stdin: ${err.message}`);
  // requests still in flight when stdin ends are answered before the bridge exits
  const inFlight = new Set<Promise<void>>();
  stdio.onmessage = (message: JSONRPCMessage) => {
    const sent = http.send(message).catch(async (err: Error) => {
      const reason = `${endpoint}: ${err.message}`;
      options.log(`glasspane mcp: ${reason}`);
      if (isJSONRPCRequest(message)) await stdio.send({ jsonrpc: "2.0", id: message.id, error: { code: -32000, message: `glasspane mcp could not reach the server: ${reason}` } });
    });
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent));
  };

  const closed = new Promise<void>((resolve) => {
    stdio.onclose = resolve;
    process.stdin.once("end", resolve);
    process.stdin.once("close", resolve);
  });
  await http.start();
  await stdio.start();
  await closed;
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  await stdio.close().catch(() => undefined);
  await http.close().catch(() => undefined);
}

function anySignal(a: AbortSignal | null | undefined, b: AbortSignal): AbortSignal {
  return a ? AbortSignal.any([a, b]) : b;
}
