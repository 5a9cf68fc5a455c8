// The real Claude Code ACP adapter, installed from npm through installAgent, driven by the
// published SDK against a local stand-in for Anthropic's streaming Messages API.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer, type TestServer } from "./support/server.js";
import { startAnthropicStub, type ModelStub } from "./support/model-stubs.js";
import { runCodingAgentStory } from "./support/agent-story.js";

let stub: ModelStub;
let server: TestServer;

before(async () => {
  stub = await startAnthropicStub();
  server = await startServer({
    env: {
      ANTHROPIC_BASE_URL: stub.url,
      ANTHROPIC_API_KEY: "sk-ant-local-stub",
      // Claude Code keeps its settings here instead of the user's ~/.claude
      CLAUDE_CONFIG_DIR: mkdtempSync(path.join(os.tmpdir(), "glasspane-claude-config-")),
    },
  });
});

after(async () => {
  await server?.stop();
  await stub?.close();
});

it("claude: install, session, a Bash tool allowed once then rejected, destroy, dispose", async () => {
  const { events } = await runCodingAgentStory(server, "claude", { expectPermission: true });
  assert.ok(stub.requests.some((r) => r.path.endsWith("/messages")), "Claude Code called the local Messages API");
  assert.ok(events.length > 0);
});
