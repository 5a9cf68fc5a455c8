import { unitOf } from "../desktop-scope.js";
import type { App } from "../app.js";
import * as S from "../schemas/actions.js";

const tags = ["desktop"];

/** `POST /v1/desktop/actions` (one model step, any dialect) and `POST /v1/desktop/wait`. */
export function registerActionRoutes(app: App) {
  app.post(
    "/actions",
    {
      schema: {
        tags,
        summary: "Run one model step (Anthropic tool_use blocks, an OpenAI computer_call, or native actions); answers with the settled screenshot in the dialect's reply",
        body: S.ActionStepRequest,
        response: { 200: S.ActionStepResponse },
      },
    },
    async (req, reply) => {
      const res = await unitOf(req).actions.step(req.body);
      const t = res.glasspane.timings;
      const actionsMs = t.actionsMs.reduce((a, b) => a + b, 0);
      reply.header(
        "server-timing",
        `actions;dur=${actionsMs.toFixed(1)}, settle;dur=${t.settleMs}, capture;dur=${t.captureMs}, encode;dur=${t.encodeMs}, total;dur=${t.totalMs}`,
      );
      return res;
    },
  );

  app.post(
    "/wait",
    { schema: { tags, summary: "Wait (on XDamage) until the screen changes or stays still", body: S.DesktopWaitRequest, response: { 200: S.DesktopWaitResponse } } },
    (req) => unitOf(req).desktop.waitForScreen(req.body),
  );
}
