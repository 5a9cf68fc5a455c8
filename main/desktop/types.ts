/** Shapes of the desktop contract (field for field as spec/API.md and the sandbox-agent SDK). */

export type DesktopState = "inactive" | "install_required" | "starting" | "active" | "stopping" | "failed";
export type MouseButton = "left" | "middle" | "right";
export type Selection = "clipboard" | "primary";
export type ImageFormat = "png" | "jpeg" | "webp";

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface MousePosition {
  x: number;
  y: number;
  screen?: number | null;
  /** decimal X11 id of the window under the pointer */
  window?: string | null;
}

export interface WindowInfo {
  /** decimal X11 id of the client window */
  id: string;
  title: string;
  /** client-area origin in root coordinates */
  x: number;
  y: number;
  width: number;
  height: number;
  isActive: boolean;
}

export interface KeyModifiers {
  ctrl?: boolean | null;
  shift?: boolean | null;
  alt?: boolean | null;
  cmd?: boolean | null;
}

export interface ScreenshotOptions {
  format: ImageFormat;
  /** 1-100, for jpeg/webp */
  quality: number;
  /** 0.1-1.0 */
  scale: number;
  showCursor: boolean;
}

/** Raw frame: tightly packed 3-channel RGB. The buffer may be reused by the next capture. */
export interface RgbFrame {
  data: Buffer;
  width: number;
  height: number;
}
