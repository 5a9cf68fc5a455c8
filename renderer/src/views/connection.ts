import { useState } from "preact/hooks";
import { html } from "htm/preact";
import type { Connection } from "../api.js";
import type { Reach } from "../main.js";

/** Server URL and token, kept for this tab (sessionStorage), and whether the server answers. */
export function ConnectionView(props: { conn: Connection; reach: Reach; reason: string; onConnect: (c: Connection) => void }) {
  const [server, setServer] = useState(props.conn.server);
  const [token, setToken] = useState(props.conn.token);
  const submit = (e: Event) => {
    e.preventDefault();
    props.onConnect({ server: server.trim().replace(/\/+$/, ""), token: token.trim() });
  };
  return html`
    <section class="panel narrow">
      <h1>Connection</h1>
      <form onSubmit=${submit} class="form">
        <label>Server URL <input name="server" type="url" required value=${server} onInput=${(e: Event) => setServer((e.target as HTMLInputElement).value)} /></label>
        <label>Token <input name="token" type="password" autocomplete="off" value=${token} onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)} /></label>
        <button type="submit">Connect</button>
      </form>
      <p id="connection-state">
        ${props.reach === "online" ? html`Connected to <code>${props.conn.server}</code>.` : props.reach === "checking" ? "Checking…" : html`Not connected: ${props.reason || props.reach}`}
      </p>
      <p class="hint">The URL and token are kept for this tab only. A <code>glasspane server</code> prints its token at start.</p>
    </section>
  `;
}
