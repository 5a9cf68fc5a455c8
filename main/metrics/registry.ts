import { collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { ActionPhase, Metrics, MetricsSources } from "./types.js";

const PREFIX = "glasspane_";
/** Request latency: from sub-millisecond input calls to multi-second settled steps. */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Action phases: capture and encode take ms; settling waits up to seconds. */
const PHASE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Every state a desktop can report, so each has a series (0 when no desktop is in it). */
const DESKTOP_STATES = ["inactive", "install_required", "starting", "active", "stopping", "failed"];

/**
 * The runtime's Prometheus metrics, in a registry of their own (never prom-client's
 * global one). Gauges read their sources on each scrape; the two histograms are fed
 * as requests and actions happen.
 */
export class RuntimeMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly requests: Histogram<"method" | "route" | "status">;
  private readonly phases: Histogram<"phase">;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    // four gauges read the desktops on each scrape: they share one reading
    const desktops = singleFlight(sources.desktops);
    this.requests = new Histogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: "HTTP request latency by method, route template and status",
      labelNames: ["method", "route", "status"],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.phases = new Histogram({
      name: `${PREFIX}action_duration_seconds`,
      help: "Computer-use action time by phase (capture, encode, input, settle)",
      labelNames: ["phase"],
      buckets: PHASE_BUCKETS,
      registers,
    });
    new Gauge({
      name: `${PREFIX}desktops`,
      help: "Desktops by state",
      labelNames: ["state"],
      registers,
      async collect() {
        const counts = new Map(DESKTOP_STATES.map((s) => [s, 0]));
        for (const d of await desktops()) counts.set(d.state, (counts.get(d.state) ?? 0) + 1);
        this.reset();
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    this.single("desktops_in_use", "Desktops that are active", async () => (await desktops()).filter((d) => d.state === "active").length);
    this.single("desktops_capacity", "Desktops this runtime may hold (--max-desktops)", sources.desktopsCapacity);
    new Gauge({
      name: `${PREFIX}stream_viewers`,
      help: "Live stream viewers by desktop and transport",
      labelNames: ["desktop", "transport"],
      registers,
      async collect() {
        this.reset();
        for (const d of await desktops()) {
          this.set({ desktop: d.id, transport: "webrtc" }, d.viewers.webrtc);
          this.set({ desktop: d.id, transport: "websocket" }, d.viewers.websocket);
        }
      },
    });
    new Gauge({
      name: `${PREFIX}recording_bytes`,
      help: "Bytes the recordings of a desktop hold on disk",
      labelNames: ["desktop"],
      registers,
      async collect() {
        this.reset();
        for (const d of await desktops()) this.set({ desktop: d.id }, d.recordingBytes);
      },
    });
    new Gauge({
      name: `${PREFIX}processes`,
      help: "Managed processes by owner and state",
      labelNames: ["owner", "state"],
      registers,
      collect() {
        const counts = new Map<string, { owner: string; state: string; n: number }>();
        for (const p of sources.processes()) {
          const key = `${p.owner}\0${p.status}`;
          const entry = counts.get(key) ?? { owner: p.owner, state: p.status, n: 0 };
          entry.n++;
          counts.set(key, entry);
        }
        this.reset();
        for (const { owner, state, n } of counts.values()) this.set({ owner, state }, n);
      },
    });
    this.single("agent_sessions", "Agent sessions (ACP servers) running", sources.agentSessions);
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
  }

  /** A gauge of one value, read on each scrape. */
  private single(name: string, help: string, read: () => number | Promise<number>): void {
    new Gauge({
      name: `${PREFIX}${name}`,
      help,
      registers: [this.registry],
      async collect() {
        this.set(await read());
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text of every metric, its gauges read now. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.observe({ method, route, status: String(status) }, seconds);
  }

  observeAction(phase: ActionPhase, ms: number): void {
    this.phases.observe({ phase }, ms / 1000);
  }
}

/** Calls made while one is pending share its answer. */
function singleFlight<T>(fn: () => T | Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () =>
    (pending ??= (async () => {
      try {
        return await fn();
      } finally {
        pending = undefined;
      }
    })());
}
