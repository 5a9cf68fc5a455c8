// The real codex ACP adapter (its native binary from npm), installed through installAgent
// and driven by the published SDK against a local stand-in for OpenAI's Responses API.
// The server's OPENAI_BASE_URL is what points it there: Glasspane translates it for codex.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { startServer, type TestServer } from "./support/server.js";
import { FINAL_TEXT, startResponsesStub, type ModelStub } from "./support/model-stubs.js";
import { runCodingAgentStory } from "./support/agent-story.js";

let stub: ModelStub;
let server: TestServer;

before(async () => {
  stub = await startResponsesStub();
  server = await startServer({ env: { OPENAI_BASE_URL: `${stub.url}/v1`, OPENAI_API_KEY: "sk-local-stub" } });
});

after(async () => {
  await server?.stop();
  await stub?.close();
});

it("codex: install, session, a text turn and an exec_command tool call, destroy, dispose", async () => {
  const { events } = await runCodingAgentStory(server, "codex", { expectPermission: false });
  assert.ok(stub.requests.some((r) => r.path.endsWith("/responses")), "codex called the local Responses API");
  const text = events
    .map((e) => (e.payload as any).params?.update)
    .filter((u) => u?.sessionUpdate === "agent_message_chunk")
    .map((u) => u.content?.text ?? "")
    .join("");
  assert.ok(text.includes(FINAL_TEXT), `the final text streamed: ${text}`);
});
