import { Type } from "typebox";
import type { App } from "../app.js";
import { problem, sendProblem } from "../problem.js";

/** Whether the runtime can serve now, and if not, why. */
export type Readiness = { ready: true } | { ready: false; reason: string };
export type ReadinessCheck = () => Promise<Readiness>;

export const READY_BODY = { status: "ready" } as const;

/** The problem a not-ready runtime answers with (the main port and the ops port alike). */
export function notReadyProblem(reason: string) {
  return problem("not_ready", 503, `the runtime is not ready: ${reason}`);
}

export function registerHealthRoutes(app: App, ready: ReadinessCheck) {
  app.get(
    "/v1/health",
    { schema: { tags: ["health"], summary: "Liveness", response: { 200: Type.Object({ status: Type.Literal("ok") }) } } },
    async () => ({ status: "ok" as const }),
  );
  app.get(
    "/v1/health/ready",
    {
      schema: {
        tags: ["health"],
        summary: "Readiness: 200 when the runtime can serve (a desktop asked for at boot is active and answers a screenshot), else 503",
        response: { 200: Type.Object({ status: Type.Literal("ready") }) },
      },
    },
    async (_request, reply) => {
      const r = await ready();
      if (!r.ready) return sendProblem(reply, notReadyProblem(r.reason));
      return READY_BODY;
    },
  );
}
