import { useState } from "preact/hooks";
import { html } from "htm/preact";
import { bytes, duration, type Api } from "../api.js";
import { useLive } from "../live.js";

interface Recording {
  id: string;
  status: "recording" | "completed" | "failed";
  fileName: string;
  bytes: number;
  startedAt: string;
  endedAt?: string | null;
  fps?: number | null;
  endReason?: string | null;
  error?: { message: string } | null;
}

/** Screen recordings: start and stop, the list, play in the page (the server answers range requests), download, delete. */
export function RecordingsView({ api, online }: { api: Api; online: boolean }) {
  const [fps, setFps] = useState(30);
  const [playing, setPlaying] = useState<string | null>(() => new URLSearchParams(location.hash.split("?")[1] ?? "").get("play"));
  const { value: list, error, act } = useLive(online, async () => (await api.get<{ recordings: Recording[] }>("/v1/desktop/recordings")).recordings, [], [api]);
  const recording = list.find((r) => r.status === "recording");
  const download = (r: Recording) => api.url(`/v1/desktop/recordings/${encodeURIComponent(r.id)}/download`, true);
  return html`
    <section class="panel">
      <h1>Recordings</h1>
      <div class="toolbar">
        ${recording
          ? html`<button id="stop-recording" class="warn" onClick=${() => act(() => api.post("/v1/desktop/recording/stop", {}, 60_000))}>Stop recording</button>
              <span class="pill recording">recording ${recording.id}</span>`
          : html`<form class="inline" onSubmit=${(e: Event) => (e.preventDefault(), act(() => api.post("/v1/desktop/recording/start", { fps })))}>
              <label>fps <input id="recording-fps" type="number" min="1" max="60" value=${fps} onInput=${(e: Event) => setFps(Number((e.target as HTMLInputElement).value))} /></label>
              <button id="start-recording" type="submit" disabled=${!online}>Start recording</button>
            </form>`}
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${playing && list.some((r) => r.id === playing) && html`
        <figure class="player">
          <video id="player" controls autoplay muted src=${download(list.find((r) => r.id === playing)!)}></video>
          <figcaption>${playing} <button onClick=${() => setPlaying(null)}>Close</button></figcaption>
        </figure>`}
      <table id="recordings">
        <thead><tr><th>Id</th><th>Started</th><th>Duration</th><th>Size</th><th>fps</th><th>Status</th><th><span class="sr">Actions</span></th></tr></thead>
        <tbody>
          ${list.length === 0 && html`<tr><td colspan="7" class="muted">No recordings yet.</td></tr>`}
          ${[...list].reverse().map(
            (r) => html`<tr data-id=${r.id}>
              <td>${r.id}</td>
              <td>${new Date(r.startedAt).toLocaleString()}</td>
              <td class="duration">${duration((r.endedAt ? Date.parse(r.endedAt) : Date.now()) - Date.parse(r.startedAt))}</td>
              <td class="size">${bytes(r.bytes)}</td>
              <td>${r.fps ?? ""}</td>
              <td>${r.status}${r.endReason ? ` (${r.endReason.replace(/_/g, " ")})` : ""}${r.error ? `: ${r.error.message}` : ""}</td>
              <td class="actions">
                <button class="play" disabled=${r.status !== "completed"} onClick=${() => setPlaying(r.id)}>Play</button>
                <a class="button" href=${download(r)} download=${r.fileName}>Download</a>
                <button class="delete warn" disabled=${r.status === "recording"} onClick=${() => confirm(`Delete ${r.id}?`) && act(() => api.del(`/v1/desktop/recordings/${encodeURIComponent(r.id)}`))}>Delete</button>
              </td>
            </tr>`,
          )}
        </tbody>
      </table>
    </section>
  `;
}
