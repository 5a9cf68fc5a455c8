import type { Metrics } from "../../metrics/types.js";
import type { App } from "../app.js";

/** `GET /metrics`: Prometheus text format, behind the token like every route. */
export function registerMetricsRoutes(app: App, metrics: Metrics) {
  app.get(
    "/metrics",
    { schema: { tags: ["health"], summary: "Prometheus metrics (text format 0.0.4)", produces: ["text/plain"] } },
    async (_request, reply) => {
      const text = await metrics.text();
      return reply.header("content-type", metrics.contentType).send(text);
    },
  );
}
