import type { Volumes } from "../../volumes/types.js";
import type { App } from "../app.js";
import * as S from "../schemas/workspace.js";

const tags = ["volumes"];

/** `/v1/volumes`: named folders under the state directory; `volume=` on file, git and process routes works inside one. */
export function registerVolumeRoutes(app: App, volumes: Volumes) {
  app.get("/v1/volumes", { schema: { tags, operationId: "get_v1_volumes", summary: "List the volumes", response: { 200: S.VolumeListResponse } } }, async () => ({ volumes: await volumes.list() }));
  app.post("/v1/volumes", { schema: { tags, operationId: "post_v1_volumes", summary: "Ensure a volume exists (created when missing)", body: S.VolumeEnsureRequest, response: { 200: S.VolumeEnsureResponse } } }, (req) =>
    volumes.ensure(req.body.name),
  );
  app.delete("/v1/volumes/:name", { schema: { tags, operationId: "delete_v1_volume", summary: "Delete a volume and its files", params: S.VolumeParams, response: { 200: S.VolumeParams } } }, (req) =>
    volumes.remove(req.params.name),
  );
}
