/** What the metrics read on each scrape: plain functions handed in by the composition root. */

/** One desktop as the metrics see it (today the one default desktop; several later). */
export interface DesktopSample {
  id: string;
  /** the desktop's state, as GET /v1/desktop/status says it (inactive, starting, active, ...) */
  state: string;
  viewers: { webrtc: number; websocket: number };
  /** bytes its recordings hold on disk */
  recordingBytes: number;
}

/** One managed process, reduced to the labels the metrics keep. */
export interface ProcessSample {
  owner: string;
  status: string;
}

export interface MetricsSources {
  desktops: () => DesktopSample[] | Promise<DesktopSample[]>;
  /** the --max-desktops value */
  desktopsCapacity: () => number;
  processes: () => ProcessSample[];
  agentSessions: () => number;
}

/** A phase of a computer-use action the executor times. */
export type ActionPhase = "capture" | "encode" | "input" | "settle";

/** What the HTTP layer asks of the metrics: record a request, render the text. */
export interface Metrics {
  /** the exposition format's media type (text/plain; version=0.0.4) */
  readonly contentType: string;
  text(): Promise<string>;
  observeRequest(method: string, route: string, status: number, seconds: number): void;
}
