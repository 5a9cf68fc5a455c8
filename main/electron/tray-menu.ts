/** What the tray menu shows depends on; the shell fills it in each time the menu opens. */
export interface TrayState {
  windowVisible: boolean;
  desktop: "active" | "inactive" | "busy";
  recording: boolean;
}

export type TrayAction =
  | "toggleWindow"
  | "startDesktop"
  | "stopDesktop"
  | "startRecording"
  | "stopRecording"
  | "copyConnection"
  | "openStateFolder"
  | "quit";

/** One menu entry, in the shape Electron's Menu.buildFromTemplate takes (plus the action). */
export interface TrayItem {
  label?: string;
  type?: "separator";
  enabled?: boolean;
  action?: TrayAction;
}

/** The tray menu as data, so it is tested without Electron. */
export function trayMenu(s: TrayState): TrayItem[] {
  const active = s.desktop === "active";
  return [
    { label: s.windowVisible ? "Hide window" : "Show window", action: "toggleWindow" },
    { type: "separator" },
    active
      ? { label: "Stop desktop", action: "stopDesktop" }
      : { label: s.desktop === "busy" ? "Desktop starting…" : "Start desktop", action: "startDesktop", enabled: s.desktop !== "busy" },
    s.recording
      ? { label: "Stop recording", action: "stopRecording" }
      : { label: "Start recording", action: "startRecording", enabled: active },
    { type: "separator" },
    { label: "Copy API URL and token", action: "copyConnection" },
    { label: "Open state folder", action: "openStateFolder" },
    { type: "separator" },
    { label: "Quit Glasspane", action: "quit" },
  ];
}

/** What "Copy API URL and token" puts on the clipboard: ready to paste into a shell for an SDK. */
export function connectionText(url: string, token: string): string {
  return `GLASSPANE_URL=${url}\nGLASSPANE_TOKEN=${token}\n`;
}
