import os from "node:os";
import { AcpServer } from "./acp-server.js";
import type { AgentDefinition } from "./agents.js";

/** Each step of a probe (initialize, session/new) gets this long. */
const PROBE_STEP_MS = 20_000;
const AUTH_METHODS = ["codex-api-key", "openai-api-key", "anthropic-api-key"];

interface AgentSpawner {
  spawnAgent(agent: AgentDefinition, name: string, onLine: (line: Buffer) => void): ReturnType<import("../processes/manager.js").ProcessManager["spawn"]>;
}

/**
 * An agent's config options, truthfully: start it, open a session as the SDK would and
 * read what `session/new` offers (`configOptions`, or its models and modes), then stop it.
 */
export async function probeConfigOptions(spawner: AgentSpawner, agent: AgentDefinition, env: NodeJS.ProcessEnv): Promise<{ options: unknown[] | null; error: string | null }> {
  const server = new AcpServer(`probe-${agent.id}`, agent.id, PROBE_STEP_MS);
  try {
    server.attach(await spawner.spawnAgent(agent, "config probe", (line) => server.receive(line)));
    const call = async (id: number, method: string, params: unknown) => {
      const answer = await server.request({ jsonrpc: "2.0", id, method, params });
      if (answer.error) throw new Error(`${method} failed: ${JSON.stringify(answer.error)}`);
      return answer.result as Record<string, unknown>;
    };
    const init = await call(1, "initialize", { protocolVersion: 1, clientInfo: { name: "glasspane-probe", version: "v1" } });
    const methods = ((init.authMethods as { id: string }[] | undefined) ?? []).map((m) => m.id);
    const auth = methods.find((m) => AUTH_METHODS.includes(m));
    if (auth && (env.OPENAI_API_KEY || env.CODEX_API_KEY || env.ANTHROPIC_API_KEY)) await call(2, "authenticate", { methodId: auth });
    const session = await call(3, "session/new", { cwd: os.homedir(), mcpServers: [] });
    return { options: configOptionsOf(session), error: null };
  } catch (err) {
    return { options: null, error: (err as Error).message };
  } finally {
    server.remove();
  }
}

/** `configOptions` as the agent gives them, or the same shape built from its models and modes. */
function configOptionsOf(session: Record<string, unknown>): unknown[] {
  if (Array.isArray(session.configOptions)) return session.configOptions;
  const options: unknown[] = [];
  const models = session.models as { currentModelId?: string; availableModels?: { modelId: string; name?: string }[] } | undefined;
  if (models?.availableModels?.length) {
    options.push({
      id: "model",
      name: "Model",
      category: "model",
      type: "select",
      currentValue: models.currentModelId ?? models.availableModels[0]!.modelId,
      options: models.availableModels.map((m) => ({ value: m.modelId, name: m.name ?? m.modelId })),
    });
  }
  const modes = session.modes as { currentModeId?: string; availableModes?: { id: string; name?: string }[] } | undefined;
  if (modes?.availableModes?.length) {
    options.push({
      id: "mode",
      name: "Mode",
      category: "mode",
      type: "select",
      currentValue: modes.currentModeId ?? modes.availableModes[0]!.id,
      options: modes.availableModes.map((m) => ({ value: m.id, name: m.name ?? m.id })),
    });
  }
  return options;
}


