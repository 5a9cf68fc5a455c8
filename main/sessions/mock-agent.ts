// The built-in `mock` ACP agent, run as its own process (`node mock-agent.js`) so it goes
// through the same stdio transport, process manager and SSE stream as a real one. It
// speaks the protocol properly: session/new answers a sessionId, a prompt streams its
// text back in chunks. Words in the prompt ask for more, for tests and demos:
//   "tool"       a tool call (pending -> completed) without asking
//   "permission" a tool call that asks for permission first; "allowed"/"rejected" follows
//   "slow"       pauses between chunks, so a cancel can land
//   "_mock/hang" (a method) is never answered; "_mock/exit" makes the agent exit with code 3
import { randomUUID } from "node:crypto";
import { Readable, Writable } from "node:stream";
import * as acp from "@agentclientprotocol/sdk";

const MODELS = [
  { value: "mock-fast", name: "Mock fast" },
  { value: "mock-thorough", name: "Mock thorough" },
];

interface MockSession {
  model: string;
  cancelled: boolean;
}

function configOptions(session: MockSession): acp.SessionConfigOption[] {
  return [{ id: "model", name: "Model", category: "model", type: "select", currentValue: session.model, options: MODELS }];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class MockAgent implements acp.Agent {
  private readonly sessions = new Map<string, MockSession>();

  constructor(private readonly client: acp.AgentSideConnection) {}

  async initialize(_params: acp.InitializeRequest): Promise<acp.InitializeResponse> {
    return {
      protocolVersion: acp.PROTOCOL_VERSION,
      agentCapabilities: { loadSession: false, promptCapabilities: { image: false, audio: false, embeddedContext: true } },
      agentInfo: { name: "glasspane-mock", title: "Glasspane mock agent", version: "1.0.0" },
      authMethods: [],
    };
  }

  async authenticate(_params: acp.AuthenticateRequest): Promise<acp.AuthenticateResponse> {
    return {};
  }

  async newSession(_params: acp.NewSessionRequest): Promise<acp.NewSessionResponse> {
    const sessionId = `mock-${randomUUID()}`;
    const session: MockSession = { model: MODELS[0]!.value, cancelled: false };
    this.sessions.set(sessionId, session);
    return { sessionId, configOptions: configOptions(session) };
  }

  async setSessionConfigOption(params: acp.SetSessionConfigOptionRequest): Promise<acp.SetSessionConfigOptionResponse> {
    const session = this.session(params.sessionId);
    const value = String((params as { value?: unknown }).value);
    if (params.configId !== "model" || !MODELS.some((m) => m.value === value)) {
      throw acp.RequestError.invalidParams({ configId: params.configId, value }, "unknown config option or value");
    }
    session.model = value;
    return { configOptions: configOptions(session) };
  }

  async prompt(params: acp.PromptRequest): Promise<acp.PromptResponse> {
    const session = this.session(params.sessionId);
    session.cancelled = false;
    const text = params.prompt.map((block) => (block.type === "text" ? block.text : `[${block.type}]`)).join(" ");
    const slow = /\bslow\b/.test(text);
    const say = async (chunk: string) => {
      await this.client.sessionUpdate({ sessionId: params.sessionId, update: { sessionUpdate: "agent_message_chunk", content: { type: "text", text: chunk } } });
      if (slow) await sleep(200);
    };
    for (const word of `mock: ${text}`.split(/(?<= )/)) {
      if (session.cancelled) return { stopReason: "cancelled" };
      await say(word);
    }
    if (/\btool\b/.test(text)) await this.toolCall(params.sessionId, false);
    if (/\bpermission\b/.test(text)) {
      const outcome = await this.toolCall(params.sessionId, true);
      await say(outcome === "allowed" ? " allowed" : " rejected");
    }
    return { stopReason: session.cancelled ? "cancelled" : "end_turn" };
  }

  async cancel(params: acp.CancelNotification): Promise<void> {
    const session = this.sessions.get(params.sessionId);
    if (session) session.cancelled = true;
  }

  async extMethod(method: string, _params: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (method === "_mock/hang") return new Promise(() => {});
    if (method === "_mock/exit") setTimeout(() => process.exit(3), 10);
    return { ok: true, method };
  }

  async extNotification(method: string): Promise<void> {
    if (method === "_mock/exit") process.exit(3);
  }

  private async toolCall(sessionId: string, ask: boolean): Promise<"allowed" | "rejected" | "done"> {
    const toolCallId = `call-${randomUUID()}`;
    const toolCall = { toolCallId, title: "Mock command", kind: "execute" as const, status: "pending" as const, rawInput: { command: "true" } };
    await this.client.sessionUpdate({ sessionId, update: { sessionUpdate: "tool_call", ...toolCall } });
    let outcome: "allowed" | "rejected" | "done" = "done";
    if (ask) {
      const answer = await this.client.requestPermission({
        sessionId,
        toolCall,
        options: [
          { optionId: "allow_always", name: "Always allow", kind: "allow_always" },
          { optionId: "allow_once", name: "Allow", kind: "allow_once" },
          { optionId: "reject_once", name: "Reject", kind: "reject_once" },
        ],
      });
      const chosen = answer.outcome.outcome === "selected" ? answer.outcome.optionId : undefined;
      outcome = chosen?.startsWith("allow") ? "allowed" : "rejected";
    }
    await this.client.sessionUpdate({
      sessionId,
      update: {
        sessionUpdate: "tool_call_update",
        toolCallId,
        status: outcome === "rejected" ? "failed" : "completed",
        rawOutput: { outcome },
      },
    });
    return outcome;
  }

  private session(id: string): MockSession {
    const session = this.sessions.get(id);
    if (!session) throw acp.RequestError.invalidParams({ sessionId: id }, `unknown session ${id}`);
    return session;
  }
}

const stream = acp.ndJsonStream(Writable.toWeb(process.stdout) as WritableStream<Uint8Array>, Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>);
const connection = new acp.AgentSideConnection((client) => new MockAgent(client), stream);
// the client closing our stdin ends the agent
void connection.closed.then(() => process.exit(0));
