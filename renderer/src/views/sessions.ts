import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "htm/preact";
import type { Api } from "../api.js";
import { useLive } from "../live.js";

interface Agent {
  id: string;
  installed: boolean;
  credentialsAvailable: boolean;
  version?: string | null;
}
interface Server {
  serverId: string;
  agent: string;
  createdAtMs: number;
}
interface Envelope {
  jsonrpc: "2.0";
  id?: number | string;
  method?: string;
  params?: any;
  result?: any;
  error?: { message: string };
}

/** One line of the transcript, built from the server's envelopes. */
type Entry =
  | { kind: "user" | "agent" | "thought"; text: string }
  | { kind: "tool"; id: string; title: string; status: string }
  | { kind: "plan"; entries: Array<{ content: string; status: string }> }
  | { kind: "permission"; rpcId: number | string; title: string; options: Array<{ optionId: string; name: string; kind: string }>; answered?: string }
  | { kind: "end"; text: string };

/** Folds one envelope into the transcript (chunks of one message join up; tool calls update in place). */
function fold(list: Entry[], env: Envelope, sessionOf: (id: string) => void): Entry[] {
  if (env.result?.sessionId) sessionOf(env.result.sessionId);
  if (env.result?.stopReason) return [...list, { kind: "end", text: `turn ended: ${String(env.result.stopReason).replace(/_/g, " ")}` }];
  if (env.error && env.id !== undefined) return [...list, { kind: "end", text: `error: ${env.error.message}` }];
  if (env.method === "session/request_permission") {
    const p = env.params ?? {};
    return [...list, { kind: "permission", rpcId: env.id!, title: p.toolCall?.title ?? "The agent asks for permission", options: p.options ?? [] }];
  }
  if (env.method !== "session/update") return list;
  const u = env.params?.update ?? {};
  const last = list[list.length - 1];
  const chunk = (kind: "user" | "agent" | "thought") => {
    const text = u.content?.type === "text" ? u.content.text : u.content ? `[${u.content.type}]` : "";
    if (last && last.kind === kind) return [...list.slice(0, -1), { kind, text: last.text + text }];
    return [...list, { kind, text }];
  };
  switch (u.sessionUpdate) {
    case "agent_message_chunk":
      return chunk("agent");
    case "user_message_chunk":
      return chunk("user");
    case "agent_thought_chunk":
      return chunk("thought");
    case "tool_call":
      return [...list, { kind: "tool", id: u.toolCallId, title: u.title ?? u.toolCallId, status: u.status ?? "pending" }];
    case "tool_call_update":
      return list.map((e) => (e.kind === "tool" && e.id === u.toolCallId ? { ...e, title: u.title ?? e.title, status: u.status ?? e.status } : e));
    case "plan":
      return [...list, { kind: "plan", entries: u.entries ?? [] }];
    default:
      return list;
  }
}

/** One ACP server: its transcript streaming over SSE, a prompt box, permissions answered inline, cancel. */
function Session({ api, server, onClosed }: { api: Api; server: Server; onClosed: () => void }) {
  const [entries, setEntries] = useState<Entry[]>([]);
  const [sessionId, setSessionId] = useState<string | null>(null);
  const [prompt, setPrompt] = useState("");
  const [working, setWorking] = useState(false);
  const [error, setError] = useState("");
  const rpcId = useRef(1000);
  const log = useRef<HTMLDivElement>(null);
  const path = `/v1/acp/${encodeURIComponent(server.serverId)}`;

  useEffect(() => {
    setEntries([]);
    const abort = new AbortController();
    api
      .events(path, (_event, data) => setEntries((list) => fold(list, JSON.parse(data), setSessionId)), abort.signal, { accept: "text/event-stream" })
      .catch((err) => !abort.signal.aborted && setError((err as Error).message));
    return () => abort.abort();
  }, [api, server.serverId]);
  useEffect(() => {
    if (log.current) log.current.scrollTop = log.current.scrollHeight;
  }, [entries]);

  const envelope = (body: object) => api.post<Envelope | undefined>(path, { jsonrpc: "2.0", ...body }, 600_000);
  const send = async (e: Event) => {
    e.preventDefault();
    const text = prompt.trim();
    if (!text || !sessionId) return;
    setPrompt("");
    setWorking(true);
    setError("");
    setEntries((list) => [...list, { kind: "user", text }]);
    try {
      await envelope({ id: ++rpcId.current, method: "session/prompt", params: { sessionId, prompt: [{ type: "text", text }] } });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setWorking(false);
    }
  };
  const cancel = () => envelope({ method: "session/cancel", params: { sessionId } }).catch((err) => setError((err as Error).message));
  const answer = (entry: Extract<Entry, { kind: "permission" }>, optionId: string) => {
    setEntries((list) => list.map((x) => (x === entry ? { ...entry, answered: optionId } : x)));
    envelope({ id: entry.rpcId, result: { outcome: { outcome: "selected", optionId } } }).catch((err) => setError((err as Error).message));
  };
  const close = async () => {
    await api.del(path).catch(() => undefined);
    onClosed();
  };

  return html`
    <div class="session">
      <div class="toolbar"><strong>${server.serverId}</strong><span class="muted">${server.agent}${sessionId ? ` · ${sessionId}` : ""}</span><span class="spacer"></span>
        ${working && html`<button id="cancel-prompt" class="warn" onClick=${cancel}>Cancel</button>`}
        <button onClick=${close}>Close session</button></div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="transcript" id="transcript" ref=${log} aria-live="polite">
        ${entries.map((e) => {
          switch (e.kind) {
            case "user":
            case "agent":
            case "thought":
              return html`<div class=${`msg ${e.kind}`}><span class="who">${e.kind === "user" ? "You" : e.kind === "agent" ? "Agent" : "Thinking"}</span><div class="text">${e.text}</div></div>`;
            case "tool":
              return html`<div class="msg tool"><span class="who">Tool</span><div class="text">${e.title} <span class=${`pill ${e.status}`}>${e.status}</span></div></div>`;
            case "plan":
              return html`<div class="msg plan"><span class="who">Plan</span><ol>${e.entries.map((p) => html`<li class=${p.status}>${p.content} <span class="muted">(${p.status})</span></li>`)}</ol></div>`;
            case "permission":
              return html`<div class="msg permission" role="group" aria-label="Permission request"><span class="who">Permission</span><div class="text">${e.title}
                <div class="actions">${e.answered
                  ? html`<span class="muted">answered: ${e.options.find((o) => o.optionId === e.answered)?.name ?? e.answered}</span>`
                  : e.options.map((o) => html`<button class=${o.kind.startsWith("reject") ? "warn" : ""} data-option=${o.optionId} onClick=${() => answer(e, o.optionId)}>${o.name}</button>`)}</div></div></div>`;
            case "end":
              return html`<div class="msg end muted">${e.text}</div>`;
          }
        })}
      </div>
      <form class="prompt" onSubmit=${send}>
        <textarea id="prompt" rows="2" aria-label="Prompt" placeholder=${sessionId ? "Ask the agent… (Enter sends, Shift+Enter for a new line)" : "starting the session…"} value=${prompt}
          onInput=${(e: Event) => setPrompt((e.target as HTMLTextAreaElement).value)}
          onKeyDown=${(e: KeyboardEvent) => e.key === "Enter" && !e.shiftKey && (e.preventDefault(), (e.target as HTMLTextAreaElement).form?.requestSubmit())}></textarea>
        <button id="send-prompt" type="submit" disabled=${!sessionId || working}>Send</button>
      </form>
    </div>
  `;
}

/** Agents (installed or not, install), sessions (start with an agent and a working directory, open one). */
export function SessionsView({ api, online }: { api: Api; online: boolean }) {
  const [installing, setInstalling] = useState<string | null>(null);
  const [installSeconds, setInstallSeconds] = useState(0);
  const [agent, setAgent] = useState("mock");
  const [cwd, setCwd] = useState("/tmp");
  const [open, setOpen] = useState<string | null>(() => decodeURIComponent(location.hash.split("/")[1] ?? "") || null);
  const load = async () => ({
    agents: (await api.get<{ agents: Agent[] }>("/v1/agents")).agents,
    servers: (await api.get<{ servers: Server[] }>("/v1/acp")).servers,
  });
  const { value, error, setError, reload: refresh } = useLive(online, load, { agents: [] as Agent[], servers: [] as Server[] }, [api], 4000);
  const { agents, servers } = value;
  const install = async (id: string) => {
    setInstalling(id);
    setError("");
    // the install call answers when npm has finished; the page counts the time meanwhile
    const started = Date.now();
    setInstallSeconds(0);
    const ticker = setInterval(() => setInstallSeconds(Math.round((Date.now() - started) / 1000)), 1000);
    try {
      await api.post(`/v1/agents/${encodeURIComponent(id)}/install`, {}, 600_000);
    } catch (err) {
      setError(`installing ${id}: ${(err as Error).message}`);
    }
    clearInterval(ticker);
    setInstalling(null);
    await refresh();
  };
  const start = async (e: Event) => {
    e.preventDefault();
    setError("");
    const serverId = `ui-${Date.now().toString(36)}`;
    const path = `/v1/acp/${serverId}`;
    try {
      await api.post(`${path}?agent=${encodeURIComponent(agent)}`, { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: 1, clientInfo: { name: "glasspane-ui", version: "1" }, clientCapabilities: {} } }, 120_000);
      await api.post(path, { jsonrpc: "2.0", id: 2, method: "session/new", params: { cwd, mcpServers: [] } }, 120_000);
      await refresh();
      setOpen(serverId);
      location.hash = `#sessions/${serverId}`;
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const current = servers.find((s) => s.serverId === open);
  return html`
    <section class="sessions">
      <div class="list">
        <div class="toolbar"><h1>Agents</h1></div>
        <table id="agents">
          <thead><tr><th>Agent</th><th>Installed</th><th>Key</th><th><span class="sr">Install</span></th></tr></thead>
          <tbody>
            ${agents.map(
              (a) => html`<tr data-id=${a.id}><td>${a.id}</td><td>${a.installed ? `yes${a.version ? ` (${a.version})` : ""}` : "no"}</td><td>${a.credentialsAvailable ? "yes" : "no"}</td>
                <td>${installing === a.id ? html`<span class="muted" role="status">installing… ${installSeconds} s</span>` : html`<button disabled=${!!installing} onClick=${() => install(a.id)}>${a.installed ? "Reinstall" : "Install"}</button>`}</td></tr>`,
            )}
          </tbody>
        </table>
        <form class="form start" onSubmit=${start}>
          <h2>New session</h2>
          <label>Agent <select id="session-agent" value=${agent} onChange=${(e: Event) => setAgent((e.target as HTMLSelectElement).value)}>
            ${agents.filter((a) => a.installed).map((a) => html`<option value=${a.id}>${a.id}</option>`)}</select></label>
          <label>Working directory <input id="session-cwd" value=${cwd} onInput=${(e: Event) => setCwd((e.target as HTMLInputElement).value)} /></label>
          <button id="start-session" type="submit" disabled=${!online}>Start session</button>
        </form>
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <h2>Sessions</h2>
        <ul id="sessions" class="plain">
          ${servers.map((s) => html`<li><a href=${`#sessions/${s.serverId}`} onClick=${() => setOpen(s.serverId)} class=${s.serverId === open ? "active" : ""}>${s.serverId}</a> <span class="muted">${s.agent}</span></li>`)}
        </ul>
      </div>
      <div class="detail">
        ${current ? html`<${Session} key=${current.serverId} api=${api} server=${current} onClosed=${() => (setOpen(null), refresh())} />` : html`<p class="muted">Start a session, or open one.</p>`}
      </div>
    </section>
  `;
}
