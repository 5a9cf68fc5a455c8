// Minimal watcher until the WebRTC viewer lands: refreshes a JPEG screenshot of the desktop.
// The page talks to the runtime only over HTTP, so it works in Electron and in any browser
// (served at /ui/; pass ?token=T when the server has one, ?server=URL from a file).
const params = new URLSearchParams(location.search);
const server = params.get("server") ?? location.origin;
const token = params.get("token");
const headers = token ? { Authorization: `Bearer ${token}` } : {};
const img = document.getElementById("screen");
const state = document.getElementById("state");
const start = document.getElementById("start");

async function problemOf(res) {
  try {
    return await res.json();
  } catch {
    return { detail: `HTTP ${res.status}` };
  }
}

async function refresh() {
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
      img.hidden = false;
    };
    img.src = url;
    state.textContent = "live";
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
