import type { ManagedProcess } from "../processes/manager.js";
import { conflict, GlasspaneError } from "../shared/errors.js";
import { EventLog } from "./event-log.js";
import type { AcpEnvelope, AcpEvent, AcpServerInfo, AcpStreamListener, AcpSubscription } from "./types.js";

interface Pending {
  resolve(envelope: AcpEnvelope): void;
  reject(err: Error): void;
}

/** How long a write waits for an agent that does not read its stdin. */
const WRITE_TIMEOUT_MS = 30_000;
/** stderr an exit problem quotes */
const STDERR_TAIL_BYTES = 2000;

/**
 * One ACP server: an agent process speaking newline-delimited JSON-RPC on stdio, and the
 * HTTP side of it. Requests wait for the agent's response (with a deadline); everything
 * the agent sends goes into the event log and out to every SSE subscriber.
 */
export class AcpServer {
  readonly createdAtMs = Date.now();
  private readonly log = new EventLog();
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Set<AcpStreamListener>();
  private proc: ManagedProcess | undefined;
  private exit: { code: number | null; signal: string | null } | undefined;
  private removed = false;

  constructor(
    readonly serverId: string,
    readonly agent: string,
    private readonly requestTimeoutMs: number,
  ) {}

  info(): AcpServerInfo {
    return { serverId: this.serverId, agent: this.agent, createdAtMs: this.createdAtMs };
  }

  get running(): boolean {
    return !!this.proc && !this.exit;
  }

  get processId(): string | undefined {
    return this.proc?.id;
  }

  /** Binds the agent process once it has spawned; its exit is reported on the stream. */
  attach(proc: ManagedProcess): void {
    this.proc = proc;
    const onExit = () => {
      this.exit = { code: proc.exitCode, signal: proc.signal };
      const code = proc.exitCode;
      this.publish({ jsonrpc: "2.0", method: "_adapter/agent_exited", params: { code, signal: proc.signal, success: code === 0 } });
      const err = this.exitedError();
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    if (proc.status === "exited") onExit();
    else proc.once("exit", onExit);
  }

  /** One line the agent wrote on stdout. */
  receive(line: Buffer): void {
    let envelope: AcpEnvelope;
    try {
      envelope = JSON.parse(line.toString("utf8"));
    } catch {
      return; // not JSON-RPC: an agent's stray print; its stderr log has the real diagnostics
    }
    if (typeof envelope !== "object" || envelope === null || Array.isArray(envelope)) return;
    this.publish(envelope, line.length);
    if (envelope.method === undefined && envelope.id !== undefined && envelope.id !== null) {
      const key = JSON.stringify(envelope.id);
      const waiting = this.pending.get(key);
      if (waiting) {
        this.pending.delete(key);
        waiting.resolve(envelope);
      }
    }
  }

  /** Sends a request and waits for the agent's answer, up to the request deadline (504). */
  async request(envelope: AcpEnvelope): Promise<AcpEnvelope> {
    const proc = this.live();
    const key = JSON.stringify(envelope.id);
    if (this.pending.has(key)) throw conflict(`a request with id ${key} is already waiting for the agent's answer on ${this.serverId}`);
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<AcpEnvelope>((resolve, reject) => {
      this.pending.set(key, { resolve, reject });
      timer = setTimeout(() => {
        this.pending.delete(key);
        reject(new GlasspaneError("timeout", 504, `agent ${this.agent} did not answer ${envelope.method} (id ${key}) within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
    });
    try {
      await proc.writeWaiting(frame(envelope), WRITE_TIMEOUT_MS);
    } catch (err) {
      this.pending.delete(key);
      clearTimeout(timer);
      answered.catch(() => undefined);
      throw this.exit ? this.exitedError() : err;
    }
    return answered.finally(() => clearTimeout(timer));
  }

  /** Sends a notification or a response to one of the agent's requests. */
  async send(envelope: AcpEnvelope): Promise<void> {
    const proc = this.live();
    try {
      await proc.writeWaiting(frame(envelope), WRITE_TIMEOUT_MS);
    } catch (err) {
      throw this.exit ? this.exitedError() : err;
    }
  }

  subscribe(lastEventId: number, listener: AcpStreamListener): AcpSubscription {
    const { events, firstId, dropped } = this.log.after(lastEventId);
    listener.start({ firstId, dropped });
    for (const e of events) listener.event(e);
    if (this.removed) {
      listener.end();
      return { close() {} };
    }
    this.listeners.add(listener);
    return { close: () => this.listeners.delete(listener) };
  }

  /** Ends the streams and stops the agent (its whole process group) without waiting. */
  remove(): void {
    this.removed = true;
    for (const l of this.listeners) l.end();
    this.listeners.clear();
    const err = new GlasspaneError("not_found", 404, `ACP server ${this.serverId} was deleted`);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    void this.proc?.stop(2000).catch(() => undefined);
  }

  private publish(envelope: AcpEnvelope, size = JSON.stringify(envelope).length): AcpEvent {
    const event = this.log.append(envelope, size);
    for (const l of this.listeners) l.event(event);
    return event;
  }

  private live(): ManagedProcess {
    if (this.exit || !this.proc) throw this.exitedError();
    return this.proc;
  }

  private exitedError(): GlasspaneError {
    const how = this.exit?.signal ? `was killed by ${this.exit.signal}` : `exited with code ${this.exit?.code ?? "unknown"}`;
    const stderr = Buffer.concat((this.proc?.logs ?? []).filter((e) => e.stream === "stderr").map((e) => e.data))
      .subarray(-STDERR_TAIL_BYTES)
      .toString("utf8")
      .trim();
    return new GlasspaneError(
      "agent_process_exited",
      502,
      `the ${this.agent} agent of ACP server ${this.serverId} ${how}; delete the server and start a new one${stderr ? `. Its last output: ${stderr}` : ""}`,
      { agent: this.agent, exitCode: this.exit?.code ?? null, processId: this.proc?.id ?? null },
    );
  }
}

function frame(envelope: AcpEnvelope): Buffer {
  return Buffer.from(`${JSON.stringify(envelope)}\n`);
}
