import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { SessionEvent, SessionPermissionRequest } from "sandbox-agent";
import { eventually, type TestServer } from "./server.js";
import { alive } from "./checks.js";

const updates = (events: SessionEvent[], kind: string) =>
  events.filter((e) => e.sender === "agent" && (e.payload as any).method === "session/update" && (e.payload as any).params?.update?.sessionUpdate === kind);

/**
 * What a user of the SDK does with a coding agent: install it, open a session in a
 * folder, ask it to run a command (allowing it once: the file appears), ask again and
 * reject (no file), destroy the session, dispose. Returns the agent processes seen.
 */
export async function runCodingAgentStory(server: TestServer, agent: string, options: { expectPermission: boolean }) {
  const sdk = server.sdk;
  const install = await sdk.installAgent(agent);
  assert.ok(install.artifacts.length >= 1, "the install lists its artifacts");
  assert.ok(existsSync(install.artifacts[0]!.path), `${install.artifacts[0]!.path} exists`);
  assert.ok(install.artifacts[0]!.path.startsWith(server.stateDir), "installed into the state directory");
  const info = await sdk.getAgent(agent);
  assert.equal(info.installed, true);
  assert.equal(info.credentialsAvailable, true);

  const work = mkdtempSync(path.join(os.tmpdir(), `glasspane-${agent}-work-`));
  const session = await sdk.createSession({ agent, cwd: work });
  const events: SessionEvent[] = [];
  session.onEvent((e) => void events.push(e));
  const asked: SessionPermissionRequest[] = [];
  let reply: "once" | "reject" = "once";
  session.onPermissionRequest((request) => {
    asked.push(request);
    void session.respondPermission(request.id, reply);
  });

  const agents = (await sdk.listProcesses({ owner: "agent" } as any)).processes.filter((p) => p.status === "running");
  assert.ok(agents.length >= 1, "the agent is listed in /v1/processes with owner agent");

  const hello = await session.prompt([{ type: "text", text: "Say hello; run nothing." }]);
  assert.equal(hello.stopReason, "end_turn", "a text-only turn");

  const made = path.join(work, "made.txt");
  const first = await session.prompt([{ type: "text", text: `Create the file with the shell.\nrun: echo made > ${made}` }]);
  assert.equal(first.stopReason, "end_turn");
  assert.ok(existsSync(made), "the allowed command wrote the file");
  assert.ok(updates(events, "agent_message_chunk").length > 0, "streamed message chunks arrived through onEvent");
  assert.ok(updates(events, "tool_call").length > 0, "the tool call arrived through onEvent");
  if (options.expectPermission) {
    assert.equal(asked.length, 1, "asked for permission once");
    assert.ok(asked[0]!.availableReplies.includes("once"));
  }

  reply = "reject";
  const refused = path.join(work, "refused.txt");
  const second = await session.prompt([{ type: "text", text: `Create another file with the shell.\nrun: echo no > ${refused}` }]);
  assert.ok(["end_turn", "refusal", "cancelled"].includes(second.stopReason), `second turn ended: ${second.stopReason}`);
  if (options.expectPermission) {
    assert.equal(asked.length, 2, "asked again");
    assert.equal(existsSync(refused), false, "the rejected command did not run");
  }

  await sdk.destroySession(session.id);
  await sdk.dispose();
  for (const p of agents) {
    await eventually(`agent pid ${p.pid} to be gone`, () => !alive(p.pid!), 10_000);
    await eventually(`agent process group ${p.pid} to be empty`, () => !groupAlive(p.pid!), 10_000);
  }
  return { events, asked };
}

/** Whether any process of group `pgid` remains (a zombie counts as gone). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  // kill(-pgid, 0) also finds zombies: look at the members
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && fields[0] !== "Z") return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}
