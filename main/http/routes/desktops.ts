import type { Desktops } from "../../desktops/types.js";
import type { App } from "../app.js";
import * as S from "../schemas/desktops.js";

const tags = ["desktops"];

/** `/v1/desktops` and `/v1/desktops/{id}`: create, list, inspect and delete desktops (their own routes are in desktop-scope.ts). */
export function registerDesktopsRoutes(app: App, desktops: Desktops) {
  app.post(
    "/v1/desktops",
    {
      schema: { tags, summary: "Create and start a desktop (409 beyond --max-desktops)", body: S.DesktopCreateRequest, response: { 201: S.DesktopCreateResponse } },
      preValidation: async (req) => {
        req.body ??= {};
      },
    },
    async (req, reply) => reply.code(201).send(await desktops.create(req.body)),
  );
  app.get("/v1/desktops", { schema: { tags, summary: "Every desktop of this runtime, the default one included", response: { 200: S.DesktopListResponse } } }, async () => ({
    desktops: await desktops.list(),
    maxDesktops: desktops.max,
  }));
  app.get("/v1/desktops/:desktopId", { schema: { tags, operationId: "get_v1_desktops_desktop", summary: "One desktop's id and state", params: S.DesktopIdParams, response: { 200: S.DesktopSummary } } }, (req) =>
    desktops.summary(req.params.desktopId),
  );
  app.delete(
    "/v1/desktops/:desktopId",
    { schema: { tags, operationId: "delete_v1_desktops_desktop", summary: "Stop a desktop and everything it runs, and forget it (the default one: 409)", params: S.DesktopIdParams, response: { 204: { type: "null", description: "deleted" } } } },
    async (req, reply) => {
      await desktops.remove(req.params.desktopId);
      return reply.code(204).send(null);
    },
  );
}
