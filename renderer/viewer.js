// Minimal watcher until the WebRTC viewer lands: refreshes a JPEG screenshot of the desktop.
// The page talks to the runtime only over HTTP, so it works in Electron and in any browser.
const params = new URLSearchParams(location.search);
const server = params.get("server") ?? location.origin;
const token = params.get("token");
const headers = token ? { Authorization: `Bearer ${token}` } : {};
const img = document.getElementById("screen");
const state = document.getElementById("state");

async function refresh() {
  try {
    const res = await fetch(`${server}/v1/desktop/screenshot?format=jpeg&quality=70`, { headers });
    if (!res.ok) throw new Error((await res.json()).detail);
    const url = URL.createObjectURL(await res.blob());
    img.onload = () => URL.revokeObjectURL(url);
    img.src = url;
    state.textContent = "live";
  } catch (err) {
    state.textContent = String(err.message ?? err);
  }
  setTimeout(refresh, 250);
}
refresh();
