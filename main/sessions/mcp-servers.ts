/**
 * The MCP servers stored for a directory (`/v1/config/mcp`), in the shape ACP's
 * `session/new` takes them, so a session opened in that directory gets them. A disabled
 * entry, or one whose name the client already passes, is left out.
 */
interface StoredMcp {
  type: "local" | "stdio" | "remote" | "http";
  enabled?: boolean | null;
  command?: string;
  args?: string[];
  env?: Record<string, string> | null;
  url?: string;
  headers?: Record<string, string> | null;
  envHeaders?: Record<string, string> | null;
  bearerTokenEnvVar?: string | null;
  transport?: string | null;
}

type NameValue = { name: string; value: string };
const pairs = (record: Record<string, string> | null | undefined): NameValue[] => Object.entries(record ?? {}).map(([name, value]) => ({ name, value }));

export function mcpServersFor(entries: Record<string, unknown>, passed: { name?: unknown }[], env: NodeJS.ProcessEnv): unknown[] {
  const taken = new Set(passed.map((s) => s.name));
  const servers: unknown[] = [];
  for (const [name, raw] of Object.entries(entries)) {
    const entry = raw as StoredMcp;
    if (taken.has(name) || entry.enabled === false) continue;
    if (entry.type === "local" || entry.type === "stdio") {
      servers.push({ name, command: entry.command, args: entry.args ?? [], env: pairs(entry.env) });
      continue;
    }
    const headers = pairs(entry.headers);
    for (const [header, variable] of Object.entries(entry.envHeaders ?? {})) if (env[variable]) headers.push({ name: header, value: env[variable]! });
    if (entry.bearerTokenEnvVar && env[entry.bearerTokenEnvVar]) headers.push({ name: "Authorization", value: `Bearer ${env[entry.bearerTokenEnvVar]}` });
    servers.push({ type: entry.transport === "sse" ? "sse" : "http", name, url: entry.url, headers });
  }
  return servers;
}
