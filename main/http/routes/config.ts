import type { Sessions } from "../../sessions/types.js";
import type { App } from "../server.js";
import * as S from "../schemas/sessions.js";

const tags = ["config"];
const deleted = { 204: { type: "null", description: "done" } };

/** `/v1/config/mcp` and `/v1/config/skills`: entries stored per directory. */
export function registerConfigRoutes(app: App, sessions: Sessions) {
  app.get("/v1/config/mcp", { schema: { tags, operationId: "get_v1_config_mcp", querystring: S.McpConfigQuery, response: { 200: S.McpServerConfig } } }, (req) => sessions.getMcpConfig(req.query) as never);
  app.put("/v1/config/mcp", { schema: { tags, operationId: "put_v1_config_mcp", querystring: S.McpConfigQuery, body: S.McpServerConfig, response: deleted } }, (req, reply) => {
    sessions.setMcpConfig(req.query, req.body);
    void reply.code(204).send(null);
  });
  app.delete("/v1/config/mcp", { schema: { tags, operationId: "delete_v1_config_mcp", querystring: S.McpConfigQuery, response: deleted } }, (req, reply) => {
    sessions.deleteMcpConfig(req.query);
    void reply.code(204).send(null);
  });
  app.get("/v1/config/skills", { schema: { tags, operationId: "get_v1_config_skills", querystring: S.SkillsConfigQuery, response: { 200: S.SkillsConfig } } }, (req) => sessions.getSkillsConfig(req.query) as never);
  app.put("/v1/config/skills", { schema: { tags, operationId: "put_v1_config_skills", querystring: S.SkillsConfigQuery, body: S.SkillsConfig, response: deleted } }, (req, reply) => {
    sessions.setSkillsConfig(req.query, req.body);
    void reply.code(204).send(null);
  });
  app.delete("/v1/config/skills", { schema: { tags, operationId: "delete_v1_config_skills", querystring: S.SkillsConfigQuery, response: deleted } }, (req, reply) => {
    sessions.deleteSkillsConfig(req.query);
    void reply.code(204).send(null);
  });
}
