import type { Sessions } from "../../sessions/types.js";
import type { App } from "../server.js";
import * as S from "../schemas/sessions.js";

const tags = ["agents"];

/** `/v1/agents`: the agents Glasspane can run, and their npm installs. */
export function registerAgentRoutes(app: App, sessions: Sessions) {
  app.get("/v1/agents", { schema: { tags, operationId: "get_v1_agents", querystring: S.AgentQuery, response: { 200: S.AgentListResponse } } }, async (req) => ({
    agents: await sessions.listAgents({ config: req.query.config ?? false, noCache: req.query.no_cache ?? false }),
  }));
  app.get("/v1/agents/:agent", { schema: { tags, operationId: "get_v1_agent", params: S.AgentParams, querystring: S.AgentQuery, response: { 200: S.AgentInfo } } }, (req) =>
    sessions.getAgent(req.params.agent, { config: req.query.config ?? false, noCache: req.query.no_cache ?? false }),
  );
  app.post(
    "/v1/agents/:agent/install",
    { schema: { tags, operationId: "post_v1_agent_install", summary: "Install the agent from npm into the state directory", params: S.AgentParams, body: S.AgentInstallRequest, response: { 200: S.AgentInstallResponse } } },
    (req) => sessions.installAgent(req.params.agent, req.body ?? {}),
  );
}
