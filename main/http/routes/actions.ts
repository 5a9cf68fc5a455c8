import type { ComputerActions } from "../../actions/types.js";
import type { Desktop } from "../../desktop/types.js";
import type { App } from "../app.js";
import * as S from "../schemas/actions.js";

const tags = ["desktop"];

/** `POST /v1/desktop/actions` (one model step, any dialect) and `POST /v1/desktop/wait`. */
export function registerActionRoutes(app: App, actions: ComputerActions, desktop: Desktop) {
  app.post(
    "/v1/desktop/actions",
    {
      schema: {
        tags,
        summary: "Run one model step (Anthropic tool_use blocks, an OpenAI computer_call, or native actions); answers with the settled screenshot in the dialect's reply",
        body: S.ActionStepRequest,
        response: { 200: S.ActionStepResponse },
      },
    },
    async (req, reply) => {
      const res = await actions.step(req.body);
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
    "/v1/desktop/wait",
    { schema: { tags, summary: "Wait (on XDamage) until the screen changes or stays still", body: S.DesktopWaitRequest, response: { 200: S.DesktopWaitResponse } } },
    (req) => desktop.waitForScreen(req.body),
  );
}
