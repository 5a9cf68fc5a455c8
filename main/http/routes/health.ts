import { Type } from "typebox";
import type { App } from "../app.js";

export function registerHealthRoutes(app: App) {
  app.get(
    "/v1/health",
    { schema: { tags: ["health"], summary: "Liveness", response: { 200: Type.Object({ status: Type.Literal("ok") }) } } },
    async () => ({ status: "ok" as const }),
  );
}
