import type { Metrics } from "../metrics/types.js";
import type { App } from "./app.js";

/** The route label of a request that matched no route: a scanner's paths must not grow the label set. */
export const UNMATCHED_ROUTE = "unmatched";

/** Times every answered request into the latency histogram, labelled by its route template. */
export function recordRequestMetrics(app: App, metrics: Metrics): void {
  app.addHook("onResponse", async (request, reply) => {
    const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
    metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });
}
