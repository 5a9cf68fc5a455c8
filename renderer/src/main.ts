// The Glasspane web UI: one page with a view per part of the runtime. Served at /ui/ and
// loaded by the Electron window; it talks to the runtime only over HTTP and WebSocket.
import "@xterm/xterm/css/xterm.css";
import "./style.css";
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { html } from "htm/preact";
import { Api, initialConnection, keepConnection, type Connection } from "./api.js";
import { ConnectionView } from "./views/connection.js";
import { DesktopView } from "./views/desktop.js";
import { ProcessesView } from "./views/processes.js";
import { RecordingsView } from "./views/recordings.js";
import { SessionsView } from "./views/sessions.js";

const VIEWS = [
  ["desktop", "Desktop"],
  ["recordings", "Recordings"],
  ["processes", "Processes"],
  ["sessions", "Agent sessions"],
  ["connection", "Connection"],
] as const;
type ViewId = (typeof VIEWS)[number][0];

/** online: health answers; away: it does not; denied: the token is refused. */
export type Reach = "checking" | "online" | "away" | "denied";

function viewFromHash(): ViewId {
  const id = location.hash.replace(/^#\/?/, "").split(/[/?]/)[0];
  return (VIEWS.find(([v]) => v === id)?.[0] ?? "desktop") as ViewId;
}

function App() {
  const [conn, setConn] = useState<Connection>(initialConnection);
  const [view, setView] = useState<ViewId>(viewFromHash);
  const [reach, setReach] = useState<Reach>("checking");
  const [reason, setReason] = useState("");
  const [attempt, setAttempt] = useState(0);
  const api = useMemo(() => new Api(conn), [conn]);

  useEffect(() => {
    const onHash = () => setView(viewFromHash());
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);

  // health every few seconds: the banner says when the server is away, and views wait for it
  useEffect(() => {
    let stop = false;
    let timer: number | undefined;
    const check = async () => {
      try {
        await api.get("/v1/health");
        if (!stop) setReach("online"), setReason("");
      } catch (err) {
        const e = err as { status: number; message: string };
        if (!stop) setReach(e.status === 401 ? "denied" : "away"), setReason(e.message);
      }
      if (!stop) timer = window.setTimeout(check, 3000);
    };
    void check();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [api, attempt]);

  const connect = (c: Connection) => {
    keepConnection(c);
    setReach("checking");
    setConn({ ...c });
  };

  const banner =
    reach === "away"
      ? html`<div class="banner" role="alert">The server at <code>${conn.server}</code> is away: ${reason}. <button onClick=${() => setAttempt((n) => n + 1)}>Reconnect</button> <a href="#connection">Change the server</a></div>`
      : reach === "denied"
        ? html`<div class="banner" role="alert">The server refused the token. <a href="#connection">Enter the right token</a></div>`
        : null;

  return html`
    <header class="top">
      <strong class="brand">Glasspane</strong>
      <nav aria-label="Views">
        ${VIEWS.map(([id, label]) => html`<a href=${`#${id}`} class=${view === id ? "tab active" : "tab"} aria-current=${view === id ? "page" : undefined}>${label}</a>`)}
      </nav>
      <span class=${`reach ${reach}`} id="reach" title=${conn.server}>${reach === "online" ? "connected" : reach}</span>
    </header>
    ${banner}
    <main>
      ${view === "desktop" && html`<${DesktopView} api=${api} online=${reach === "online"} />`}
      ${view === "recordings" && html`<${RecordingsView} api=${api} online=${reach === "online"} />`}
      ${view === "processes" && html`<${ProcessesView} api=${api} online=${reach === "online"} />`}
      ${view === "sessions" && html`<${SessionsView} api=${api} online=${reach === "online"} />`}
      ${view === "connection" && html`<${ConnectionView} conn=${conn} reach=${reach} reason=${reason} onConnect=${connect} />`}
    </main>
  `;
}

render(html`<${App} />`, document.getElementById("app")!);
