import type { TSchema } from "typebox";
import type { McpConfigQuery, Sessions, SkillsConfigQuery } from "../../sessions/types.js";
import type { App } from "../app.js";
import * as S from "../schemas/sessions.js";

const tags = ["config"];
const done = { 204: { type: "null", description: "done" } };

interface EntryKind<Q> {
  path: string;
  name: string;
  query: TSchema;
  body: TSchema;
  get(q: Q): unknown;
  set(q: Q, value: unknown): void;
  remove(q: Q): void;
}

/** GET / PUT / DELETE of one kind of entry stored per directory. */
function registerEntry<Q>(app: App, kind: EntryKind<Q>) {
  const opId = (method: string) => `${method}_v1_config_${kind.name}`;
  app.get(kind.path, { schema: { tags, operationId: opId("get"), querystring: kind.query, response: { 200: kind.body } } }, (req) => kind.get(req.query as Q) as never);
  app.put(kind.path, { schema: { tags, operationId: opId("put"), querystring: kind.query, body: kind.body, response: done } }, (req, reply) => {
    kind.set(req.query as Q, req.body);
    void reply.code(204).send(null);
  });
  app.delete(kind.path, { schema: { tags, operationId: opId("delete"), querystring: kind.query, response: done } }, (req, reply) => {
    kind.remove(req.query as Q);
    void reply.code(204).send(null);
  });
}

/** `/v1/config/mcp` and `/v1/config/skills`: entries stored per directory. */
export function registerConfigRoutes(app: App, sessions: Sessions) {
  registerEntry<McpConfigQuery>(app, {
    path: "/v1/config/mcp",
    name: "mcp",
    query: S.McpConfigQuery,
    body: S.McpServerConfig,
    get: (q) => sessions.getMcpConfig(q),
    set: (q, v) => sessions.setMcpConfig(q, v),
    remove: (q) => sessions.deleteMcpConfig(q),
  });
  registerEntry<SkillsConfigQuery>(app, {
    path: "/v1/config/skills",
    name: "skills",
    query: S.SkillsConfigQuery,
    body: S.SkillsConfig,
    get: (q) => sessions.getSkillsConfig(q),
    set: (q, v) => sessions.setSkillsConfig(q, v),
    remove: (q) => sessions.deleteSkillsConfig(q),
  });
}
