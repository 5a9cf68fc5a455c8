import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "htm/preact";
import type { Api } from "../api.js";
import { useLive } from "../live.js";
import { encode, keysym, notches, toDesktop, xButton } from "../input.js";
import { connectStream, type LiveStream } from "../stream.js";
import { canDecode, connectFallback } from "../fallback.js";

interface DesktopStatus {
  state: string;
  display: string | null;
  resolution: { width: number; height: number; dpi: number } | null;
  startedAt: string | null;
  lastError: { code: string; message: string } | null;
  processes?: Array<{ name: string; pid: number | null; running: boolean }>;
  capturePath?: string | null;
  control?: { holder: string; since: string; expiresAt: string } | null;
  installCommand?: string | null;
}

const HOLDER = "the Glasspane UI";
/** How long WebRTC may take to connect before the view switches to the WebSocket transport. */
const WEBRTC_DEADLINE_MS = 4000;

type Transport = "webrtc" | "websocket";
const LABEL: Record<Transport, string> = { webrtc: "WebRTC", websocket: "WebSocket" };

/** `/ui/?transport=websocket|webrtc` picks the transport; without it the view chooses. */
function askedTransport(): Transport | undefined {
  const t = new URLSearchParams(location.search).get("transport");
  return t === "webrtc" || t === "websocket" ? t : undefined;
}
const hasWebRtc = () => typeof (window as { RTCPeerConnection?: unknown }).RTCPeerConnection === "function";

/** The live desktop: watch by default; take control to drive it with this page's mouse and keyboard. */
export function DesktopView({ api, online }: { api: Api; online: boolean }) {
  const [busy, setBusy] = useState(false);
  const [streamState, setStreamState] = useState("not connected");
  const [control, setControl] = useState<"none" | "asking" | "held">("none");
  const [controlNote, setControlNote] = useState("");
  const [clip, setClip] = useState("");
  const [toDesk, setToDesk] = useState("");
  const [size, setSize] = useState({ width: 1440, height: 900 });
  const [transport, setTransport] = useState<Transport>("webrtc");
  const video = useRef<HTMLVideoElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const stream = useRef<LiveStream | null>(null);
  const socket = useRef<WebSocket | null>(null);
  /** the control lease's id, which the WebSocket transport's socket joins to send input */
  const lease = useRef<string | null>(null);
  const screen = useRef({ width: 0, height: 0 });
  const live = useLive(
    online,
    async () => {
      const s = await api.get<DesktopStatus>("/v1/desktop/status");
      if (s.resolution) screen.current = { width: s.resolution.width, height: s.resolution.height };
      return s as DesktopStatus | null;
    },
    null,
    [api],
  );
  const { value: status, error, reload: refresh } = live;
  const active = status?.state === "active";

  // the stream: started on demand, reconnected while the desktop is active. WebRTC, or the
  // WebSocket when WebRTC does not connect within WEBRTC_DEADLINE_MS or the browser has none
  useEffect(() => {
    if (!online || !active || !video.current || !canvas.current) return;
    let stop = false;
    let retry: number | undefined;
    let deadline: number | undefined;
    const asked = askedTransport();
    // once WebRTC failed to connect here, reconnections go straight to the WebSocket
    let fellBack = false;
    const open = async () => {
      try {
        const s = await api.get<{ active: boolean }>("/v1/desktop/stream/status");
        if (!s.active) await api.post("/v1/desktop/stream/start", {});
      } catch (err) {
        setStreamState(`stream unavailable: ${(err as Error).message}`);
        if (!stop) retry = window.setTimeout(open, 3000);
        return;
      }
      if (stop) return;
      const use: Transport = asked ?? (fellBack || !hasWebRtc() ? "websocket" : "webrtc");
      if (use === "webrtc" && !hasWebRtc()) {
        setStreamState("this browser has no WebRTC; open /ui/?transport=websocket");
        return;
      }
      if (use === "websocket" && !canDecode()) {
        setStreamState("this browser has neither WebRTC nor WebCodecs: the stream cannot play here");
        return;
      }
      setTransport(use);
      setStreamState(`connecting (${LABEL[use]})`);
      let connected = false;
      const onState = (st: string) => {
        if (st === "connected") connected = true;
        setStreamState(st === "connected" ? `live (${LABEL[use]})` : `${st} (${LABEL[use]})`);
      };
      const onScreen = (sz: { width: number; height: number }) => (screen.current = sz);
      const live =
        use === "webrtc"
          ? connectStream({ url: api.wsUrl("/v1/desktop/stream/signaling"), video: video.current!, onState, onScreen })
          : connectFallback({ url: api.wsUrl("/v1/desktop/stream/ws"), canvas: canvas.current!, onState, onScreen });
      stream.current = live;
      // a stream that (re)connects while the page has control joins the lease
      if (lease.current) live.attachControl?.(lease.current);
      let timedOut = false;
      if (use === "webrtc" && !asked) {
        deadline = window.setTimeout(() => {
          if (connected) return;
          timedOut = fellBack = true;
          live.close();
        }, WEBRTC_DEADLINE_MS);
      }
      const reason = await live.closed;
      clearTimeout(deadline);
      stream.current = null;
      if (video.current) video.current.srcObject = null;
      if (stop) return;
      if (timedOut) {
        setStreamState(`WebRTC did not connect within ${WEBRTC_DEADLINE_MS / 1000} s; switching to the WebSocket`);
        void open();
        return;
      }
      setStreamState(`stream ended (${reason}); reconnecting`);
      retry = window.setTimeout(open, 2000);
    };
    void open();
    return () => {
      stop = true;
      clearTimeout(retry);
      clearTimeout(deadline);
      stream.current?.close();
    };
  }, [api, online, active]);

  // give control back when the view goes away
  useEffect(() => () => socket.current?.close(), []);

  // the desktop's clipboard, while in control
  useEffect(() => {
    if (control !== "held") return;
    let last = "";
    const poll = async () => {
      try {
        const { text } = await api.get<{ text: string }>("/v1/desktop/clipboard");
        if (text !== last) {
          last = text;
          setClip(text);
          navigator.clipboard?.writeText(text).catch(() => undefined);
        }
      } catch {
        // an empty or unreadable selection is shown as it was
      }
    };
    void poll();
    const t = setInterval(poll, 1500);
    return () => clearInterval(t);
  }, [api, control]);

  const act = async (what: () => Promise<unknown>) => {
    setBusy(true);
    await live.act(what);
    setBusy(false);
  };

  const takeControl = (force = false) => {
    setControl("asking");
    setControlNote("");
    const ws = new WebSocket(api.wsUrl(`/v1/desktop/control/ws?holder=${encodeURIComponent(HOLDER)}${force ? "&force=true" : ""}`));
    ws.binaryType = "arraybuffer";
    socket.current = ws;
    ws.onmessage = (m) => {
      const f = JSON.parse(m.data);
      if (f.type === "granted") {
        lease.current = f.lease ?? null;
        if (f.lease) stream.current?.attachControl?.(f.lease);
        setControl("held");
        surface()?.focus();
        void refresh();
      } else if (f.type === "released") setControlNote(`control ended: ${f.reason}`);
      else if (f.type === "error") setControlNote(f.message);
    };
    ws.onclose = () => {
      if (socket.current === ws) socket.current = null;
      lease.current = null;
      setControl("none");
      void refresh();
    };
    ws.onerror = () => setControlNote(status?.control ? `${status.control.holder} has control since ${status.control.since}` : "could not take control");
  };
  const giveBack = () => {
    const ws = socket.current;
    if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "release" }));
    ws?.close();
  };

  const send = (buf: ArrayBuffer) => {
    const ws = socket.current;
    if (control !== "held") return;
    // on the WebSocket transport the input goes with the picture, over the stream's socket
    if (transport === "websocket" && stream.current?.sendInput?.(buf)) return;
    if (ws?.readyState === WebSocket.OPEN) ws.send(buf);
  };
  // the picture the live transport draws into: the video (WebRTC) or the canvas (WebSocket)
  const surface = (): HTMLVideoElement | HTMLCanvasElement | null => (transport === "websocket" ? canvas.current : video.current);
  const point = (e: MouseEvent) => {
    const el = surface();
    if (!el) return undefined;
    // the picture's own size: what object-fit fits into the element's box
    const pic = el instanceof HTMLVideoElement ? { width: el.videoWidth, height: el.videoHeight } : { width: el.width, height: el.height };
    const s = screen.current.width ? screen.current : pic;
    return toDesktop(e.clientX, e.clientY, el.getBoundingClientRect(), { width: pic.width || s.width, height: pic.height || s.height }, s);
  };
  const onMove = (e: MouseEvent) => {
    const p = point(e);
    if (p) send(encode.move(p.x, p.y));
  };
  const onButton = (down: boolean) => (e: MouseEvent) => {
    if (control !== "held") return;
    e.preventDefault();
    surface()?.focus();
    const p = point(e);
    if (!p) return;
    send(encode.move(p.x, p.y));
    send(encode.button(down, xButton(e.button)));
  };
  const onWheel = (e: WheelEvent) => {
    if (control !== "held") return;
    e.preventDefault();
    onMove(e);
    send(encode.scroll(notches(e.deltaX, e.deltaMode), notches(e.deltaY, e.deltaMode)));
  };
  const onKey = (down: boolean) => async (e: KeyboardEvent) => {
    if (control !== "held") return;
    const sym = keysym(e);
    if (!sym) return;
    e.preventDefault();
    // Ctrl/Cmd+V pastes this computer's clipboard: it goes to the desktop's first
    if (down && (e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "v") {
      const text = await navigator.clipboard?.readText().catch(() => undefined);
      if (text) socket.current?.send(JSON.stringify({ type: "clipboard", text }));
    }
    send(encode.key(down, sym));
  };
  const fullscreen = async () => {
    const el = surface()?.parentElement;
    if (!el) return;
    await el.requestFullscreen().catch(() => undefined);
    // where the browser allows it, shortcuts such as Alt+Tab and Escape go to the desktop too
    await (navigator as unknown as { keyboard?: { lock(): Promise<void> } }).keyboard?.lock().catch(() => undefined);
  };
  const screenshot = () =>
    act(async () => {
      const blob = await (await api.raw("/v1/desktop/screenshot?format=png")).blob();
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = `glasspane-${new Date().toISOString().replace(/[:.]/g, "-")}.png`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    });

  const heldByOther = status?.control && control !== "held";
  // both pictures take the same input; only the live transport's is shown
  const surfaceProps = {
    tabindex: "0",
    "data-transport": transport,
    "aria-label": control === "held" ? "The desktop: your mouse and keyboard drive it" : "The desktop (view only)",
    onMouseMove: onMove,
    onMouseDown: onButton(true),
    onMouseUp: onButton(false),
    onContextMenu: (e: Event) => control === "held" && e.preventDefault(),
    onWheel,
    onKeyDown: onKey(true),
    onKeyUp: onKey(false),
  };
  return html`
    <section class="desktop">
      <div class="toolbar" role="toolbar" aria-label="Desktop">
        <span id="desktop-state" class=${`pill ${status?.state ?? "unknown"}`}>${status?.state ?? "…"}</span>
        ${status?.resolution && html`<span id="resolution">${status.resolution.width}×${status.resolution.height} @ ${status.resolution.dpi} dpi</span>`}
        <span id="stream-state" class="muted">${active ? streamState : ""}</span>
        <span class="spacer"></span>
        ${active && control !== "held" && html`<button id="take-control" disabled=${control === "asking"} onClick=${() => takeControl(false)}>Take control</button>`}
        ${active && heldByOther && html`<button onClick=${() => takeControl(true)}>Take over</button>`}
        ${control === "held" && html`<button id="give-back" class="warn" onClick=${giveBack}>Give back</button>`}
        ${active && html`<button onClick=${fullscreen} title="Fullscreen; captures the browser's shortcuts where it can">Fullscreen</button>`}
        ${active && html`<button id="screenshot" onClick=${screenshot} disabled=${busy}>Screenshot</button>`}
        ${active
          ? html`<button id="stop-desktop" class="warn" disabled=${busy} onClick=${() => act(() => api.post("/v1/desktop/stop", {}, 60_000))}>Stop desktop</button>`
          : html`<form class="inline" onSubmit=${(e: Event) => (e.preventDefault(), act(() => api.post("/v1/desktop/start", size, 60_000)))}>
              <label>W <input type="number" min="64" max="8192" value=${size.width} onInput=${(e: Event) => setSize({ ...size, width: Number((e.target as HTMLInputElement).value) })} /></label>
              <label>H <input type="number" min="64" max="8192" value=${size.height} onInput=${(e: Event) => setSize({ ...size, height: Number((e.target as HTMLInputElement).value) })} /></label>
              <button id="start-desktop" type="submit" disabled=${busy || !online}>Start desktop</button>
            </form>`}
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${controlNote && html`<p class="note" id="control-note">${controlNote}</p>`}
      ${heldByOther && html`<p class="note" id="control-holder">${status!.control!.holder} has control since ${new Date(status!.control!.since).toLocaleTimeString()}</p>`}
      <div class="stage-row">
        <div class=${`stage ${control === "held" ? "in-control" : ""}`}>
          <video
            id="video"
            ref=${video}
            autoplay
            muted
            playsinline
            hidden=${!active || transport !== "webrtc"}
            ...${surfaceProps}
          ></video>
          <canvas id="canvas" ref=${canvas} hidden=${!active || transport !== "websocket"} ...${surfaceProps}></canvas>
          ${!active && html`<div class="empty">${status?.state === "install_required" ? html`The desktop needs programs installed: <code>${status.installCommand}</code>` : "The desktop is not running."}</div>`}
        </div>
        <aside class="side">
          <h2>Health</h2>
          <ul id="desktop-processes" class="health">
            ${(status?.processes ?? []).map((p) => html`<li><span class=${p.running ? "dot ok" : "dot bad"} aria-hidden="true"></span>${p.name} ${p.running ? `pid ${p.pid}` : "not running"}</li>`)}
            ${status?.capturePath && html`<li>capture: ${status.capturePath}</li>`}
            ${status?.display && html`<li>display ${status.display}</li>`}
            ${status?.startedAt && html`<li>since ${new Date(status.startedAt).toLocaleTimeString()}</li>`}
          </ul>
          ${status?.lastError && html`<p class="error">${status.lastError.message}</p>`}
          ${control === "held" &&
          html`<h2>Clipboard</h2>
            <label>Desktop clipboard <textarea id="desktop-clipboard" readonly rows="3" value=${clip}></textarea></label>
            <form onSubmit=${(e: Event) => {
              e.preventDefault();
              socket.current?.send(JSON.stringify({ type: "clipboard", text: toDesk }));
            }}>
              <label>To the desktop <input id="clipboard-to-desktop" value=${toDesk} onInput=${(e: Event) => setToDesk((e.target as HTMLInputElement).value)} /></label>
              <button type="submit" id="send-clipboard">Send to the desktop</button>
            </form>`}
        </aside>
      </div>
    </section>
  `;
}
