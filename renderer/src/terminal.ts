import { useEffect, useRef } from "preact/hooks";
import { html } from "htm/preact";
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import type { Api } from "./api.js";

/** xterm.js over /v1/processes/{id}/terminal/ws (the SDK's terminal protocol). */
export function TerminalPane({ api, id, onExit }: { api: Api; id: string; onExit?: (code: number | null) => void }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const term = new Terminal({ fontSize: 13, cursorBlink: true, convertEol: false, theme: { background: "#0d1014" } });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(host.current!);
    const ws = new WebSocket(api.wsUrl(`/v1/processes/${encodeURIComponent(id)}/terminal/ws`));
    ws.binaryType = "arraybuffer";
    const sendJson = (f: object) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(f));
    const resize = () => {
      try {
        fit.fit();
      } catch {
        return;
      }
      sendJson({ type: "resize", cols: term.cols, rows: term.rows });
    };
    ws.onopen = resize;
    ws.onmessage = (m) => {
      if (m.data instanceof ArrayBuffer) return term.write(new Uint8Array(m.data));
      const f = JSON.parse(m.data);
      if (f.type === "exit") {
        term.write(`\r\n[exited ${f.exitCode ?? ""}]\r\n`);
        onExit?.(f.exitCode ?? null);
      } else if (f.type === "error") term.write(`\r\n[${f.message}]\r\n`);
    };
    ws.onclose = () => term.write("\r\n[disconnected]\r\n");
    const input = term.onData((data) => sendJson({ type: "input", data }));
    const observer = new ResizeObserver(resize);
    observer.observe(host.current!);
    term.focus();
    return () => {
      observer.disconnect();
      input.dispose();
      ws.close();
      term.dispose();
    };
  }, [api, id]);
  return html`<div class="term-pane" ref=${host} data-process=${id}></div>`;
}
