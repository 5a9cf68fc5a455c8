// Story: a platform team scrapes a runtime. /metrics speaks Prometheus text, its numbers
// move with what callers do (screenshots, actions, desktop start/stop, processes, stream
// viewers); the ops port answers a scraper and a kubelet without a token and serves
// nothing else; readiness follows the desktop that was asked for at boot.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { eventually, startServer, type TestServer } from "./support/server.js";
import { connectReceiver } from "./support/stream-receiver.js";

const TOKEN = "metrics-test-token";

interface ParsedMetric {
  name: string;
  help: string;
  type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
  metrics: Array<{ labels?: Record<string, string>; value?: string; count?: string; sum?: string; buckets?: Record<string, string> }>;
}

const NAMED_METRICS = [
  "glasspane_http_request_duration_seconds",
  "glasspane_action_duration_seconds",
  "glasspane_desktops",
  "glasspane_desktops_in_use",
  "glasspane_desktops_capacity",
  "glasspane_stream_viewers",
  "glasspane_recording_bytes",
  "glasspane_processes",
  "glasspane_agent_sessions",
  // prom-client's process metrics: event-loop lag, descriptors, memory
  "glasspane_nodejs_eventloop_lag_seconds",
  "glasspane_process_open_fds",
  "glasspane_process_resident_memory_bytes",
  "glasspane_nodejs_heap_size_used_bytes",
];

class Scrape {
  readonly families: ParsedMetric[];

  constructor(readonly text: string) {
    this.families = parsePrometheusTextFormat(text) as ParsedMetric[];
  }

  family(name: string): ParsedMetric {
    const f = this.families.find((m) => m.name === name);
    assert.ok(f, `no metric ${name} in the scrape`);
    return f;
  }

  /** the gauge's value for exactly these labels (0 when the series is absent) */
  gauge(name: string, labels: Record<string, string> = {}): number {
    const series = this.family(name).metrics.find((m) => sameLabels(m.labels ?? {}, labels));
    return series ? Number(series.value) : 0;
  }

  /**
   * The series of one sample name of a histogram (`_count`, `_bucket`), labels kept. The
   * parser folds a histogram's labelled series into one, so the lines of that one sample
   * name are parsed on their own (as an untyped family, which keeps every label).
   */
  private histogramSamples(name: string, suffix: "_count" | "_bucket"): Array<{ labels: Record<string, string>; value: number }> {
    this.family(name);
    const sample = `${name}${suffix}`;
    const lines = this.text.split("\n").filter((l) => l.startsWith(`${sample}{`) || l.startsWith(`${sample} `));
    // (each line ends in a newline, as in the exposition: the parser drops a last line without one)
    const [family] = parsePrometheusTextFormat(lines.map((l) => `${l}\n`).join("")) as ParsedMetric[];
    return (family?.metrics ?? []).map((m) => ({ labels: m.labels ?? {}, value: Number(m.value) }));
  }

  /** a histogram's sample count over the series that carry these labels (and any others) */
  count(name: string, labels: Record<string, string>): number {
    const matches = (l: Record<string, string>) => Object.entries(labels).every(([k, v]) => l[k] === v);
    const counts = this.histogramSamples(name, "_count").filter((s) => matches(s.labels));
    // each series' count is its +Inf bucket: the two sample names agree
    const infinite = this.histogramSamples(name, "_bucket").filter((s) => s.labels.le === "+Inf" && matches(s.labels));
    assert.equal(infinite.reduce((a, s) => a + s.value, 0), counts.reduce((a, s) => a + s.value, 0), `${name}: +Inf buckets and counts disagree`);
    return counts.reduce((sum, s) => sum + s.value, 0);
  }

  labelValues(name: string, label: string): string[] {
    return [...new Set(this.histogramSamples(name, "_count").map((s) => s.labels[label]).filter((v): v is string => v !== undefined))];
  }
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

async function scrapeFrom(res: Response): Promise<Scrape> {
  assert.equal(res.status, 200, await res.clone().text());
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return new Scrape(await res.text());
}

describe("metrics and readiness (server started with --desktop and --metrics-port)", () => {
  let server: TestServer;
  let ops: string;
  const scrape = async () => scrapeFrom(await server.fetch("/metrics"));

  before(async () => {
    server = await startServer({ token: TOKEN, desktop: true, args: ["--metrics-port", "0", "--width", "640", "--height", "480"] });
    const m = /metrics and health on (http:\/\/\S+)/.exec(server.output());
    assert.ok(m, `the server did not print its ops address:\n${server.output()}`);
    ops = m[1]!;
  });
  after(async () => server?.stop());

  it("/metrics needs the token on the main port and parses as Prometheus text with every named metric", async () => {
    const anonymous = await fetch(`${server.url}/metrics`);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get("content-type"), "application/problem+json");
    const s = await scrape();
    for (const name of NAMED_METRICS) s.family(name);
    assert.equal(s.family("glasspane_http_request_duration_seconds").type, "HISTOGRAM");
    assert.equal(s.family("glasspane_action_duration_seconds").type, "HISTOGRAM");
    assert.equal(s.family("glasspane_desktops").type, "GAUGE");
    assert.equal(s.gauge("glasspane_desktops_capacity"), 8, "the --max-desktops default");
    assert.ok(s.gauge("glasspane_process_open_fds") > 0);
    assert.ok(s.gauge("glasspane_process_resident_memory_bytes") > 1024 * 1024);
    assert.equal(s.gauge("glasspane_agent_sessions"), 0);
  });

  it("N screenshots grow the screenshot route's count by N; an unrouted path counts as route 'unmatched'", async () => {
    const labels = { method: "GET", route: "/v1/desktop/screenshot", status: "200" };
    const before = (await scrape()).count("glasspane_http_request_duration_seconds", labels);
    const N = 4;
    for (let i = 0; i < N; i++) {
      const res = await server.fetch("/v1/desktop/screenshot");
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    // a failed call is counted under its own status
    const bad = await server.fetch("/v1/desktop/screenshot?format=nope");
    assert.equal(bad.status, 400);
    for (const path of ["/wp-admin/setup.php", "/v1/no-such-thing/12345", "/.env"]) assert.equal((await server.fetch(path)).status, 404);
    // the histogram is filled once the answer is sent: the next scrape may come first
    await eventually("the screenshot count to grow by N", async () => (await scrape()).count("glasspane_http_request_duration_seconds", labels) === before + N);
    const s = await scrape();
    assert.ok(s.count("glasspane_http_request_duration_seconds", { route: "/v1/desktop/screenshot", status: "400" }) >= 1);
    assert.ok(s.count("glasspane_http_request_duration_seconds", { route: "unmatched", status: "404" }) >= 3);
    const routes = s.labelValues("glasspane_http_request_duration_seconds", "route");
    assert.ok(routes.every((r) => r === "unmatched" || r.startsWith("/")), routes.join(", "));
    for (const scanned of ["/wp-admin/setup.php", "/.env", "/v1/no-such-thing/12345"]) assert.ok(!routes.includes(scanned), `${scanned} became a route label`);
    // a route with a parameter is labelled by its template, not by the id asked for
    assert.equal((await server.fetch("/v1/processes/no-such-process")).status, 404);
    await eventually("the template route label", async () => (await scrape()).labelValues("glasspane_http_request_duration_seconds", "route").includes("/v1/processes/:id"));
    assert.ok(!(await scrape()).labelValues("glasspane_http_request_duration_seconds", "route").includes("/v1/processes/no-such-process"));
  });

  it("an action call adds capture, encode, input and settle samples", async () => {
    const phases = ["capture", "encode", "input", "settle"] as const;
    const before = await scrape();
    const counts = Object.fromEntries(phases.map((p) => [p, before.count("glasspane_action_duration_seconds", { phase: p })]));
    const res = await server.fetch("/v1/desktop/actions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ dialect: "native", actions: [{ type: "move", x: 20, y: 20 }, { type: "move", x: 40, y: 30 }], settle: { quietMs: 50, timeoutMs: 2000 } }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const after = await scrape();
    for (const p of phases) assert.ok(after.count("glasspane_action_duration_seconds", { phase: p }) > counts[p]!, `no new ${p} sample`);
    // two moves are two input samples; one settled screenshot is one capture
    assert.equal(after.count("glasspane_action_duration_seconds", { phase: "input" }), counts.input! + 2);
    assert.equal(after.count("glasspane_action_duration_seconds", { phase: "capture" }), counts.capture! + 1);
  });

  it("processes are counted by owner and state", async () => {
    const s0 = await scrape();
    assert.ok(s0.gauge("glasspane_processes", { owner: "desktop", state: "running" }) >= 2, "Xvfb and openbox run as desktop processes");
    const running0 = s0.gauge("glasspane_processes", { owner: "user", state: "running" });
    const exited0 = s0.gauge("glasspane_processes", { owner: "user", state: "exited" });
    const started = await server.fetch("/v1/processes", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ command: "sleep", args: ["60"] }) });
    assert.equal(started.status, 200, await started.clone().text());
    const { id } = (await started.json()) as { id: string };
    assert.equal((await scrape()).gauge("glasspane_processes", { owner: "user", state: "running" }), running0 + 1);
    assert.equal((await server.fetch(`/v1/processes/${id}/kill`, { method: "POST" })).status, 200);
    await eventually("the killed process to count as exited", async () => {
      const s = await scrape();
      return s.gauge("glasspane_processes", { owner: "user", state: "exited" }) === exited0 + 1 && s.gauge("glasspane_processes", { owner: "user", state: "running" }) === running0;
    });
  });

  it("stream viewers are counted by desktop and transport", async () => {
    const start = await server.fetch("/v1/desktop/stream/start", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ videoCodec: "h264" }) });
    assert.equal(start.status, 200, await start.clone().text());
    const viewers = async (transport: string) => (await scrape()).gauge("glasspane_stream_viewers", { desktop: "default", transport });
    assert.equal(await viewers("webrtc"), 0);
    const receiver = connectReceiver(server.url, "h264", TOKEN);
    try {
      await eventually("a WebRTC viewer in the metrics", async () => (await viewers("webrtc")) === 1, 20_000);
      const socket = new WebSocket(`${server.url.replace(/^http/, "ws")}/v1/desktop/stream/ws?access_token=${TOKEN}`);
      await new Promise<void>((resolve, reject) => socket.once("open", () => resolve()).once("error", reject));
      try {
        await eventually("a WebSocket viewer in the metrics", async () => (await viewers("websocket")) === 1);
        assert.equal(await viewers("webrtc"), 1);
      } finally {
        socket.close();
      }
      await eventually("the WebSocket viewer to leave", async () => (await viewers("websocket")) === 0);
    } finally {
      await receiver.close();
    }
    await eventually("the WebRTC viewer to leave", async () => (await viewers("webrtc")) === 0, 20_000);
    assert.equal((await server.fetch("/v1/desktop/stream/stop", { method: "POST" })).status, 200);
  });

  it("the ops port serves /metrics and health without a token, and nothing else", async () => {
    const s = await scrapeFrom(await fetch(`${ops}/metrics`));
    for (const name of NAMED_METRICS) s.family(name);
    const health = await fetch(`${ops}/v1/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });
    const ready = await fetch(`${ops}/v1/health/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: "ready" });
    for (const [method, path] of [
      ["GET", "/v1/processes"],
      ["GET", "/v1/desktop/status"],
      ["GET", "/v1/desktop/screenshot"],
      ["GET", "/v1/openapi.json"],
      ["GET", "/ui/"],
      ["POST", "/metrics"],
      ["POST", "/v1/desktop/stop"],
      ["GET", "/metrics/../v1/processes"],
    ] as const) {
      const res = await fetch(`${ops}${path}`, { method });
      assert.equal(res.status, 404, `${method} ${path} answered ${res.status}`);
      assert.equal(res.headers.get("content-type"), "application/problem+json");
    }
    // a token is no key to more on the ops port
    assert.equal((await fetch(`${ops}/v1/processes`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 404);
    // readiness on the main port follows the token rules of every route
    assert.equal((await fetch(`${server.url}/v1/health/ready`)).status, 401);
    assert.equal((await server.fetch("/v1/health/ready")).status, 200);
  });

  it("desktops by state and readiness follow the desktop: 503 while it is down, 200 once it is up again", async () => {
    let s = await scrape();
    assert.equal(s.gauge("glasspane_desktops", { state: "active" }), 1);
    assert.equal(s.gauge("glasspane_desktops_in_use"), 1);
    assert.equal((await server.fetch("/v1/desktop/stop", { method: "POST" })).status, 200);
    s = await scrape();
    assert.equal(s.gauge("glasspane_desktops", { state: "active" }), 0);
    assert.equal(s.gauge("glasspane_desktops", { state: "inactive" }), 1);
    assert.equal(s.gauge("glasspane_desktops_in_use"), 0);
    assert.equal(s.gauge("glasspane_processes", { owner: "desktop", state: "running" }), 0);
    for (const res of [await server.fetch("/v1/health/ready"), await fetch(`${ops}/v1/health/ready`)]) {
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("content-type"), "application/problem+json");
      const body = (await res.json()) as { code: string; detail: string };
      assert.equal(body.code, "not_ready");
      assert.match(body.detail, /desktop is inactive/);
    }
    // liveness stays: the process is fine, only not ready
    assert.equal((await fetch(`${ops}/v1/health`)).status, 200);
    const started = await server.fetch("/v1/desktop/start", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ width: 640, height: 480 }) });
    assert.equal(started.status, 200, await started.clone().text());
    await eventually("readiness after the desktop started", async () => (await fetch(`${ops}/v1/health/ready`)).status === 200, 20_000);
    s = await scrape();
    assert.equal(s.gauge("glasspane_desktops", { state: "active" }), 1);
    assert.equal(s.gauge("glasspane_desktops", { state: "inactive" }), 0);
    assert.equal(s.gauge("glasspane_desktops_in_use"), 1);
  });

  it("the ops port is closed with the runtime", async () => {
    await server.stop();
    await assert.rejects(fetch(`${ops}/v1/health`, { signal: AbortSignal.timeout(5000) }));
  });
});

describe("readiness without --desktop", () => {
  it("is ready once the server listens, and no ops port is opened without --metrics-port", async () => {
    const server = await startServer({ token: TOKEN });
    try {
      const res = await server.fetch("/v1/health/ready");
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: "ready" });
      assert.doesNotMatch(server.output(), /metrics and health on/);
      const s = await scrapeFrom(await server.fetch("/metrics"));
      assert.equal(s.gauge("glasspane_desktops", { state: "inactive" }), 1);
      assert.equal(s.gauge("glasspane_desktops_in_use"), 0);
    } finally {
      await server.stop();
    }
  });
});
