import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "htm/preact";
import type { Api } from "../api.js";
import { useLive } from "../live.js";
import { TerminalPane } from "../terminal.js";

interface ProcessInfo {
  id: string;
  command: string;
  args: string[];
  tty: boolean;
  owner: string;
  status: "running" | "exited";
  pid?: number | null;
  exitCode?: number | null;
  createdAtMs: number;
}

const decoder = new TextDecoder();
function decode(entry: { data: string; encoding: string }): string {
  if (entry.encoding !== "base64") return entry.data;
  return decoder.decode(Uint8Array.from(atob(entry.data), (c) => c.charCodeAt(0)), { stream: true });
}

/** The logs of one process, following live (server-sent events) until it exits. */
function Logs({ api, id }: { api: Api; id: string }) {
  const [text, setText] = useState("");
  const [state, setState] = useState("following");
  const pre = useRef<HTMLPreElement>(null);
  useEffect(() => {
    setText("");
    const abort = new AbortController();
    setState("following");
    api
      .events(`/v1/processes/${encodeURIComponent(id)}/logs?follow=true&tail=500`, (event, data) => {
        if (event === "log") setText((t) => (t + decode(JSON.parse(data))).slice(-200_000));
      }, abort.signal)
      .then(() => setState("ended"), (err) => !abort.signal.aborted && setState(`stopped: ${(err as Error).message}`));
    return () => abort.abort();
  }, [api, id]);
  useEffect(() => {
    const el = pre.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [text]);
  return html`<div class="logs-wrap"><div class="muted">logs ${state}</div><pre id="logs" ref=${pre} tabindex="0" aria-label="Process output">${text}</pre></div>`;
}

/** Managed processes: the list with owner and state, live logs, stop and kill, terminals. */
export function ProcessesView({ api, online }: { api: Api; online: boolean }) {
  const [selected, setSelected] = useState<string | null>(null);
  const { value: list, error, reload: refresh, act } = useLive(online, async () => (await api.get<{ processes: ProcessInfo[] }>("/v1/processes")).processes, [], [api]);
  const newTerminal = () =>
    act(async () => {
      const p = await api.post<ProcessInfo>("/v1/processes", { command: "bash", args: ["-i"], tty: true, interactive: true, env: { TERM: "xterm-256color" } });
      setSelected(p.id);
    });
  const current = list.find((p) => p.id === selected);
  return html`
    <section class="processes">
      <div class="list">
        <div class="toolbar"><h1>Processes</h1><span class="spacer"></span><button id="new-terminal" onClick=${newTerminal} disabled=${!online}>New terminal</button></div>
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <table id="processes">
          <thead><tr><th>Id</th><th>Command</th><th>Owner</th><th>State</th></tr></thead>
          <tbody>
            ${list.map(
              (p) => html`<tr data-id=${p.id} class=${p.id === selected ? "selected" : ""} tabindex="0"
                  onClick=${() => setSelected(p.id)} onKeyDown=${(e: KeyboardEvent) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), setSelected(p.id))}>
                <td>${p.id}</td>
                <td class="cmd" title=${[p.command, ...p.args].join(" ")}>${[p.command, ...p.args].join(" ")}</td>
                <td>${p.owner}</td>
                <td class="state">${p.status === "running" ? `running${p.pid ? ` (${p.pid})` : ""}` : `exited${p.exitCode != null ? ` ${p.exitCode}` : ""}`}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <div class="detail">
        ${current
          ? html`<div class="toolbar">
                <strong>${current.id}</strong><code class="cmd">${[current.command, ...current.args].join(" ")}</code><span class="spacer"></span>
                <button id="stop-process" disabled=${current.status !== "running"} onClick=${() => act(() => api.post(`/v1/processes/${current.id}/stop`))}>Stop</button>
                <button id="kill-process" class="warn" disabled=${current.status !== "running"} onClick=${() => act(() => api.post(`/v1/processes/${current.id}/kill`))}>Kill</button>
              </div>
              ${current.tty && current.status === "running" ? html`<${TerminalPane} key=${current.id} api=${api} id=${current.id} onExit=${refresh} />` : html`<${Logs} key=${current.id} api=${api} id=${current.id} />`}`
          : html`<p class="muted">Choose a process to see its output, or open a new terminal.</p>`}
      </div>
    </section>
  `;
}
