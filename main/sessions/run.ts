import { randomUUID } from "node:crypto";
import { GlasspaneError, invalid, notFound } from "../shared/errors.js";
import { LIMITS } from "../shared/limits.js";
import { uiChunks } from "./ui-stream.js";
import type { AcpEnvelope, AgentRunRequest, AgentRuns, Sessions, UIMessageChunk } from "./types.js";

/** A finished run keeps its agent this long, so `resume` can continue its session. */
const IDLE_KEEP_MS = 10 * 60_000;
/** Finished runs kept for `resume` at once; the oldest goes first. */
const MAX_IDLE_RUNS = 8;

interface RunState {
  runId: string;
  agent: string;
  sessionId: string;
  cwd: string;
  busy: boolean;
  idleTimer?: NodeJS.Timeout;
}

/**
 * One-shot agent runs: a prompt in, the AI SDK UI message stream out. Underneath each run
 * is an ACP server of the session service (same agents, installs, process manager); the
 * run answers the agent's permission requests from what it declared up front. A run the
 * client abandons is cancelled and its agent stopped; a finished one stays resumable for
 * a while (`resume: runId`).
 */
export class AgentRunService implements AgentRuns {
  private readonly runs = new Map<string, RunState>();

  constructor(private readonly sessions: Sessions) {}

  async *run(agent: string, request: AgentRunRequest, signal: AbortSignal): AsyncGenerator<UIMessageChunk> {
    if (request.prompt.length > LIMITS.runPromptLength.max) throw invalid(`the prompt is longer than ${LIMITS.runPromptLength.max} characters`);
    const state = request.resume ? this.resumable(request.resume, agent) : await this.open(agent, request);
    state.busy = true;
    clearTimeout(state.idleTimer);
    const serverId = state.runId;
    const chunks = uiChunks(state.runId);
    const queue: UIMessageChunk[] = [];
    let wake: (() => void) | undefined;
    const push = (c: UIMessageChunk[]) => {
      queue.push(...c);
      wake?.();
    };
    let done = false;
    let outcome = "failed" as "finished" | "aborted" | "failed";
    const subscription = await this.sessions.subscribe(serverId, Number.MAX_SAFE_INTEGER, {
      start: () => undefined,
      event: (e) => {
        const env = e.envelope;
        if (env.method === "session/update") push(chunks.update((env.params as { update?: Record<string, unknown> })?.update ?? {}));
        else if (env.method === "session/request_permission" && env.id !== undefined) void this.answerPermission(serverId, env, request.permissions ?? "reject");
        else if (env.method === "_adapter/agent_exited") push(chunks.error("the agent exited during the run"));
      },
      end: () => {
        done = true;
        wake?.();
      },
    });
    const onAbort = () => {
      outcome = "aborted";
      // cancel the turn, then stop the agent: the client is gone, nobody reads the rest
      void this.sessions.post(serverId, undefined, { jsonrpc: "2.0", method: "session/cancel", params: { sessionId: state.sessionId } }).catch(() => undefined);
      this.forget(state);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      yield* chunks.begin({ runId: state.runId, sessionId: state.sessionId, agent, cwd: state.cwd });
      const prompting = this.sessions
        .post(serverId, undefined, { jsonrpc: "2.0", id: `run-prompt-${randomUUID()}`, method: "session/prompt", params: { sessionId: state.sessionId, prompt: [{ type: "text", text: request.prompt }] } })
        .then((answer) => {
          if (answer?.error) push(chunks.error(errorText(answer.error)));
          const stop = (answer?.result as { stopReason?: string } | undefined)?.stopReason;
          push(chunks.end(stop));
          outcome = answer?.error ? "failed" : "finished";
        })
        .catch((err: Error) => {
          if (signal.aborted) return;
          push(chunks.error(err.message));
          push(chunks.end("error"));
        })
        .finally(() => {
          done = true;
          wake?.();
        });
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (done || signal.aborted) break;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
      await prompting;
      while (queue.length > 0) yield queue.shift()!;
    } finally {
      signal.removeEventListener("abort", onAbort);
      subscription.close();
      state.busy = false;
      if (outcome === "finished") this.keepIdle(state);
      else this.forget(state);
    }
  }

  /** Stops every run's agent (server shutdown). */
  close(): void {
    for (const state of [...this.runs.values()]) this.forget(state);
  }

  private async open(agent: string, request: AgentRunRequest): Promise<RunState> {
    const runId = `run_${randomUUID()}`;
    const cwd = request.cwd;
    try {
      await this.call(runId, agent, "initialize", { protocolVersion: 1, clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false }, clientInfo: { name: "glasspane-run", version: "1" } });
      // Claude Code reads its options from _meta (system prompt, turns, tools, model); other agents ignore it
      const options: Record<string, unknown> = {};
      if (request.maxTurns) options.maxTurns = request.maxTurns;
      if (request.allowedTools) options.allowedTools = request.allowedTools;
      if (request.model) options.model = request.model;
      const meta: Record<string, unknown> = { claudeCode: { options } };
      if (request.systemPrompt) meta.systemPrompt = request.systemPrompt;
      const created = (await this.call(runId, agent, "session/new", { cwd, mcpServers: [], _meta: meta })) as { sessionId: string; configOptions?: Array<{ id: string; category?: string }> };
      if (request.model) {
        const modelOption = created.configOptions?.find((o) => o.category === "model" || o.id === "model");
        if (modelOption) await this.call(runId, agent, "session/set_config_option", { sessionId: created.sessionId, configId: modelOption.id, value: request.model });
      }
      const state: RunState = { runId, agent, sessionId: created.sessionId, cwd, busy: false };
      this.runs.set(runId, state);
      return state;
    } catch (err) {
      this.sessions.remove(runId);
      throw err;
    }
  }

  private async call(serverId: string, agent: string, method: string, params: unknown): Promise<unknown> {
    const answer = await this.sessions.post(serverId, agent, { jsonrpc: "2.0", id: `run-${method}`, method, params });
    if (answer?.error) throw new GlasspaneError("invalid_request", 422, `the agent refused ${method}: ${errorText(answer.error)}`);
    return answer?.result;
  }

  private resumable(runId: string, agent: string): RunState {
    const state = this.runs.get(runId);
    if (!state) throw notFound(`no resumable run "${runId}" (it ended, was abandoned, or idled out)`);
    if (state.agent !== agent) throw invalid(`run ${runId} ran agent "${state.agent}", not "${agent}"`);
    if (state.busy) throw new GlasspaneError("conflict", 409, `run ${runId} is still running`);
    return state;
  }

  /** Answers a permission request from the run's declared grant: pick the matching option. */
  private async answerPermission(serverId: string, env: AcpEnvelope, grant: AgentRunRequest["permissions"]) {
    const params = env.params as { options?: Array<{ optionId: string; kind: string }>; toolCall?: { kind?: string } } | undefined;
    const kind = params?.toolCall?.kind ?? "other";
    const allowed = grant === "allow" || (Array.isArray(grant) && grant.includes(kind));
    const options = params?.options ?? [];
    const pick = allowed ? options.find((o) => o.kind === "allow_once") ?? options.find((o) => o.kind === "allow_always") : options.find((o) => o.kind === "reject_once") ?? options.find((o) => o.kind === "reject_always");
    const result = pick ? { outcome: { outcome: "selected", optionId: pick.optionId } } : { outcome: { outcome: "cancelled" } };
    await this.sessions.post(serverId, undefined, { jsonrpc: "2.0", id: env.id, result }).catch(() => undefined);
  }

  private keepIdle(state: RunState) {
    state.idleTimer = setTimeout(() => this.forget(state), IDLE_KEEP_MS);
    state.idleTimer.unref();
    const idle = [...this.runs.values()].filter((s) => !s.busy);
    for (const old of idle.slice(0, Math.max(0, idle.length - MAX_IDLE_RUNS))) this.forget(old);
  }

  private forget(state: RunState) {
    clearTimeout(state.idleTimer);
    this.runs.delete(state.runId);
    this.sessions.remove(state.runId);
  }
}

function errorText(error: unknown): string {
  const e = error as { message?: string; data?: unknown };
  return e?.message ? `${e.message}${e.data ? ` (${JSON.stringify(e.data).slice(0, 500)})` : ""}` : JSON.stringify(error).slice(0, 500);
}
