// Watches the desktop: the live WebRTC stream (stream.js) while the stream is started,
// otherwise a JPEG screenshot refreshed a few times a second. The page talks to the
// runtime only over HTTP and WebSockets, so it works in Electron and in any browser
// (served at /ui/; pass ?token=T when the server has one, ?server=URL from a file).
const params = new URLSearchParams(location.search);
const server = params.get("server") ?? location.origin;
const token = params.get("token");
const headers = token ? { Authorization: `Bearer ${token}` } : {};
const img = document.getElementById("screen");
const state = document.getElementById("state");
const start = document.getElementById("start");
const video = document.getElementById("video");
const canvas = document.getElementById("canvas");
/** ?transport=webrtc|websocket picks one; by default WebRTC, and the WebSocket when WebRTC does not connect */
const transport = params.get("transport") ?? "auto";
/** how long WebRTC may take to connect before the WebSocket transport takes over */
const WEBRTC_CONNECT_MS = 4000;
/** the stream session (WebRTC or WebSocket) while one is up */
let live = null;
let lastStreamCheck = 0;

/** Switches to the WebRTC view when the stream is started; falls back to screenshots when it ends. */
async function maybeStream() {
  if (live || Date.now() - lastStreamCheck < 2000) return;
  lastStreamCheck = Date.now();
  const res = await fetch(`${server}/v1/desktop/stream/status`, { headers }).catch(() => null);
  if (!res?.ok || !(await res.json()).active) return;
  if (transport === "websocket" || (transport === "auto" && typeof RTCPeerConnection === "undefined")) return watchFallback();
  let connected = false;
  const session = connectStream({ server, token, video, onState: (s) => s === "connected" && ((connected = true), (state.textContent = "live (WebRTC)")) });
  live = session;
  video.onplaying = () => {
    video.hidden = false;
    img.hidden = true;
    state.textContent = "live (WebRTC)";
  };
  if (transport === "auto") {
    setTimeout(() => {
      if (live !== session || connected) return;
      // UDP blocked or no route: the same stream over the WebSocket
      session.fallingBack = true;
      session.close();
      watchFallback();
    }, WEBRTC_CONNECT_MS);
  }
  session.closed.then((reason) => {
    if (session.fallingBack) return;
    live = null;
    video.hidden = true;
    video.srcObject = null;
    state.textContent = `stream ended (${reason})`;
    setTimeout(refresh, 250);
  });
}

function watchFallback() {
  const session = connectFallback({
    server,
    token,
    canvas,
    onState: (s) => {
      if (s !== "playing" || !canvas.hidden) return;
      canvas.hidden = false;
      img.hidden = true;
      state.textContent = "live (WebSocket)";
    },
  });
  live = session;
  session.closed.then((reason) => {
    live = null;
    canvas.hidden = true;
    state.textContent = `stream ended (${reason})`;
    setTimeout(refresh, 250);
  });
}

async function problemOf(res) {
  try {
    return await res.json();
  } catch {
    return { detail: `HTTP ${res.status}` };
  }
}

async function refresh() {
  if (live && (!video.hidden || !canvas.hidden)) return; // the stream shows the desktop; screenshots resume when it ends
  try {
    const res = await fetch(`${server}/v1/desktop/screenshot?format=jpeg&quality=70`, { headers });
    if (!res.ok) {
      const problem = await problemOf(res);
      start.hidden = problem.code !== "desktop_not_active";
      throw new Error(problem.detail);
    }
    start.hidden = true;
    const url = URL.createObjectURL(await res.blob());
    img.onload = () => {
      URL.revokeObjectURL(url);
      img.hidden = !video.hidden || !canvas.hidden;
    };
    img.src = url;
    if (!live) state.textContent = "live";
    await maybeStream();
  } catch (err) {
    state.textContent = String(err.message ?? err);
  }
  setTimeout(refresh, 250);
}

start.addEventListener("click", async () => {
  start.disabled = true;
  state.textContent = "starting…";
  const res = await fetch(`${server}/v1/desktop/start`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: "{}" });
  if (!res.ok) state.textContent = (await problemOf(res)).detail;
  start.disabled = false;
});

refresh();
