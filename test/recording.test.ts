// Screen recording as a user sees it: a real `glasspane server`, Xvfb + openbox + a busy
// xterm, real ffmpeg, the published sandbox-agent SDK as the client, ffprobe as the judge.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { SandboxAgentError, type DesktopRecordingInfo } from "sandbox-agent";
import { eventually, startServer, type TestServer } from "./support/server.js";
import { alive, expectProblem } from "./support/checks.js";

const work = mkdtempSync(path.join(os.tmpdir(), "glasspane-recording-"));
after(() => rmSync(work, { recursive: true, force: true }));

/**
 * Removes a desktop's state directory. The desktop's autostart programs (xdg-user-dirs,
 * dconf) may still be writing into its home for a moment after the server has gone.
 */
async function removeDir(dir: string) {
  for (let attempt = 0; ; attempt++) {
    try {
      rmSync(dir, { recursive: true, force: true });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOTEMPTY" || attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Glasspane's additions to the SDK's DesktopRecordingInfo. */
type Recording = DesktopRecordingInfo & { fps?: number; endReason?: string | null; error?: { code: string; message: string } | null };

interface Probe {
  duration: number;
  codec: string;
  width: number;
  height: number;
  rFrameRate: string;
  avgFrameRate: string;
  frames: number;
}

/** ffprobe's view of an MP4 (frames counted by decoding). Throws when ffprobe cannot read it. */
function probe(bytes: Uint8Array): Probe {
  const file = path.join(work, `probe-${Date.now()}-${Math.random().toString(36).slice(2)}.mp4`);
  writeFileSync(file, bytes);
  try {
    const out = execFileSync(
      "ffprobe",
      ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "format=duration:stream=codec_name,width,height,r_frame_rate,avg_frame_rate,nb_read_frames", "-of", "json", file],
      { encoding: "utf8", timeout: 30_000 },
    );
    const json = JSON.parse(out) as { format: { duration: string }; streams: Array<Record<string, string | number>> };
    const s = json.streams[0]!;
    return {
      duration: Number(json.format.duration),
      codec: String(s.codec_name),
      width: Number(s.width),
      height: Number(s.height),
      rFrameRate: String(s.r_frame_rate),
      avgFrameRate: String(s.avg_frame_rate),
      frames: Number(s.nb_read_frames),
    };
  } finally {
    rmSync(file, { force: true });
  }
}

/** Decodes every frame; returns ffmpeg's complaints (empty when the file is clean). */
function decodeErrors(bytes: Uint8Array): string {
  const file = path.join(work, `decode-${Date.now()}.mp4`);
  writeFileSync(file, bytes);
  try {
    const r = spawnSync("ffmpeg", ["-v", "error", "-nostdin", "-i", file, "-f", "null", "-"], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, `ffmpeg could not decode the recording: ${r.stderr}`);
    return r.stderr.trim();
  } finally {
    rmSync(file, { force: true });
  }
}

/** One decoded frame at `seconds`, as raw RGB. */
async function frameAt(bytes: Uint8Array, seconds: number) {
  const file = path.join(work, `frame-${Date.now()}.mp4`);
  writeFileSync(file, bytes);
  try {
    const png = execFileSync("ffmpeg", ["-v", "error", "-nostdin", "-ss", String(seconds), "-i", file, "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"], { timeout: 30_000 });
    return sharp(png).removeAlpha().raw().toBuffer();
  } finally {
    rmSync(file, { force: true });
  }
}

/** Top-level MP4 boxes in order: a plain file has ftyp, moov, mdat; a fragmented one moof/mdat pairs. */
function topLevelBoxes(bytes: Uint8Array): string[] {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const boxes: string[] = [];
  for (let off = 0; off + 8 <= view.length; ) {
    let size = view.readUInt32BE(off);
    const type = view.toString("latin1", off + 4, off + 8);
    if (size === 1) size = Number(view.readBigUInt64BE(off + 8));
    if (size === 0) size = view.length - off;
    if (size < 8) break;
    boxes.push(type);
    off += size;
  }
  return boxes;
}

/** The pid of the ffmpeg writing `fileName` under `stateDir` (from /proc, not by name). */
function recorderPid(stateDir: string, fileName: string): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (path.basename(cmdline[0] ?? "") === "ffmpeg" && cmdline.some((a) => a.startsWith(stateDir) && a.endsWith(fileName))) return Number(entry);
    } catch {
      /* the process is gone */
    }
  }
  return undefined;
}



const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An xterm printing a new line every 30 ms, so every frame differs. */
async function busyXterm(server: TestServer) {
  await server.sdk.launchDesktopApp({ app: "xterm", args: ["-geometry", "100x40+0+0", "-e", "sh", "-c", "while :; do date +%s.%N; sleep 0.03; done"], wait: true });
}

describe("desktop recording", () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ token: "rec-token", env: { LANG: "C.UTF-8", LC_ALL: "C.UTF-8" } });
  });

  after(async () => {
    await server?.stop();
  });

  it("documents its routes in OpenAPI under the SDK's operation names", async () => {
    const doc = (await (await server.fetch("/v1/openapi.json")).json()) as { paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>> };
    const ops = Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((o) => o.operationId));
    assert.deepEqual(ops.filter((id, i) => ops.indexOf(id) !== i), [], "operationIds are unique");
    const p = doc.paths;
    assert.equal(p["/v1/desktop/recording/start"]!.post!.operationId, "post_v1_desktop_recording_start");
    assert.equal(p["/v1/desktop/recording/stop"]!.post!.operationId, "post_v1_desktop_recording_stop");
    assert.equal(p["/v1/desktop/recordings"]!.get!.operationId, "get_v1_desktop_recordings");
    assert.equal(p["/v1/desktop/recordings/{id}"]!.get!.operationId, "get_v1_desktop_recording");
    assert.equal(p["/v1/desktop/recordings/{id}"]!.delete!.operationId, "delete_v1_desktop_recording");
    const download = p["/v1/desktop/recordings/{id}/download"]!.get!;
    assert.equal(download.operationId, "get_v1_desktop_recording_download");
    assert.ok(download.responses["206"], "partial content is documented");
  });

  it("refuses bad requests with 4xx problems", async () => {
    const { sdk } = server;
    await expectProblem(sdk.startDesktopRecording({ fps: 10 }), 409, "desktop_not_active");
    await expectProblem(sdk.stopDesktopRecording(), 409, "conflict");
    await expectProblem(sdk.getDesktopRecording("rec_999"), 404, "not_found");
    await expectProblem(sdk.downloadDesktopRecording("rec_999"), 404, "not_found");
    await expectProblem(sdk.deleteDesktopRecording("nope"), 404, "not_found");
    assert.deepEqual((await sdk.listDesktopRecordings()).recordings, []);

    await sdk.startDesktop({ displayNum: 400, width: 801, height: 601, recordingFps: 12 });
    for (const body of [{ fps: 0 }, { fps: 61 }, { fps: 2.5 }, { fps: "30" }, { frameRate: 30 }, { maxDurationSeconds: 0 }, { maxSizeBytes: 10 }]) {
      await expectProblem(sdk.startDesktopRecording(body as never), 400, "invalid_request");
    }
    const malformed = await server.fetch("/v1/desktop/recording/start", { method: "POST", headers: { "content-type": "application/json" }, body: "{fps:" });
    assert.equal(malformed.status, 400);
    assert.deepEqual((await sdk.listDesktopRecordings()).recordings, [], "no recording was left behind by a refused start");
  });

  let main: Recording;
  let mainBytes: Uint8Array;

  it("records a changing screen at the requested frame rate for about as long as it ran", async () => {
    const { sdk } = server;
    await busyXterm(server);
    const asked = Date.now();
    const started = (await sdk.startDesktopRecording({ fps: 15 })) as Recording;
    const t0 = Date.now();
    assert.equal(started.status, "recording");
    assert.match(started.id, /^rec_[0-9]+$/);
    assert.equal(started.fileName, `${started.id}.mp4`);
    assert.match(started.processId ?? "", /^proc_[0-9]+$/);
    assert.equal(started.fps, 15);
    assert.ok(!Number.isNaN(Date.parse(started.startedAt)));
    await expectProblem(sdk.startDesktopRecording({}), 409, "conflict");
    await expectProblem(sdk.deleteDesktopRecording(started.id), 409, "conflict");

    // while recording, the file on disk already plays: it is fragmented MP4
    await eventually("the first fragments on disk", async () => ((await sdk.getDesktopRecording(started.id)).bytes > 20_000), 20_000, 200);
    const partial = await sdk.downloadDesktopRecording(started.id);
    assert.ok(topLevelBoxes(partial).includes("moof"), `fragments while recording, got ${topLevelBoxes(partial).slice(0, 6)}`);
    assert.ok(probe(partial).frames > 0, "the partial file decodes");

    await sleep(Math.max(0, 4000 - (Date.now() - t0)));
    const stopAsked = Date.now();
    main = (await sdk.stopDesktopRecording()) as Recording;
    // the video lasts at least from the start's answer to the stop request, at most from the start request to the stop's answer
    const [shortest, longest] = [(stopAsked - t0) / 1000, (Date.now() - asked) / 1000];
    assert.equal(main.id, started.id);
    assert.equal(main.status, "completed");
    assert.equal(main.endReason, "stopped");
    assert.ok(main.endedAt && Date.parse(main.endedAt) >= Date.parse(main.startedAt));
    assert.deepEqual(await sdk.getDesktopRecording(main.id), main);

    mainBytes = await sdk.downloadDesktopRecording(main.id);
    assert.equal(mainBytes.byteLength, main.bytes);
    // stop leaves a plain MP4 with its index first: seekable, and playable while downloading
    const boxes = topLevelBoxes(mainBytes);
    assert.deepEqual(boxes.slice(0, 2), ["ftyp", "moov"], `boxes ${boxes}`);
    assert.ok(!boxes.includes("moof"), `no fragments left, got ${boxes}`);

    const p = probe(mainBytes);
    assert.equal(p.codec, "h264");
    assert.deepEqual([p.width, p.height], [800, 600], "odd screen sizes are recorded at the even size below");
    assert.equal(p.rFrameRate, "15/1");
    assert.equal(p.avgFrameRate, "15/1");
    assert.ok(Math.abs(p.frames / p.duration - 15) < 0.5, `${p.frames} frames in ${p.duration} s`);
    assert.ok(p.duration > shortest - 0.5 && p.duration < longest + 0.2, `video of ${p.duration} s; recorded between ${shortest} and ${longest} s`);
    assert.equal(decodeErrors(mainBytes), "");

    const first = await frameAt(mainBytes, 0.2);
    const last = await frameAt(mainBytes, p.duration - 0.3);
    assert.ok(!first.equals(last), "the xterm's output changes from the first frame to the last");
  });

  it("serves byte ranges of the download exactly", async () => {
    const url = `/v1/desktop/recordings/${main.id}/download`;
    const size = mainBytes.byteLength;
    const full = await server.fetch(url);
    assert.equal(full.status, 200);
    assert.equal(full.headers.get("content-type"), "video/mp4");
    assert.equal(full.headers.get("accept-ranges"), "bytes");
    assert.equal(Number(full.headers.get("content-length")), size);
    assert.ok(Buffer.from(await full.arrayBuffer()).equals(Buffer.from(mainBytes)));

    const cases: Array<[string, number, number]> = [
      ["bytes=100-1099", 100, 1099],
      ["bytes=0-0", 0, 0],
      [`bytes=${size - 500}-`, size - 500, size - 1],
      ["bytes=-300", size - 300, size - 1],
      [`bytes=${size - 10}-${size + 1000}`, size - 10, size - 1],
    ];
    for (const [range, start, end] of cases) {
      const res = await server.fetch(url, { headers: { Range: range } });
      assert.equal(res.status, 206, range);
      assert.equal(res.headers.get("content-range"), `bytes ${start}-${end}/${size}`, range);
      const body = Buffer.from(await res.arrayBuffer());
      assert.equal(body.length, end - start + 1, range);
      assert.ok(body.equals(Buffer.from(mainBytes.subarray(start, end + 1))), `bytes of ${range}`);
    }

    const outside = await server.fetch(url, { headers: { Range: `bytes=${size}-` } });
    assert.equal(outside.status, 416);
    assert.equal(outside.headers.get("content-range"), `bytes */${size}`);
    assert.equal(outside.headers.get("content-type"), "application/problem+json");
    assert.equal(((await outside.json()) as { type: string }).type, "urn:glasspane:error:range_not_satisfiable");
  });

  it("stops by itself at maxDurationSeconds with a video of exactly that length", async () => {
    const { sdk } = server;
    const rec = (await sdk.startDesktopRecording({ maxDurationSeconds: 2.5 } as never)) as Recording;
    assert.equal(rec.fps, 12, "the desktop's recordingFps is the default");
    await eventually("the recording to end by itself", async () => (await sdk.getDesktopRecording(rec.id)).status !== "recording", 30_000, 200);
    const done = (await sdk.getDesktopRecording(rec.id)) as Recording;
    assert.equal(done.status, "completed");
    assert.equal(done.endReason, "max_duration");
    const p = probe(await sdk.downloadDesktopRecording(rec.id));
    assert.equal(p.rFrameRate, "12/1");
    assert.ok(Math.abs(p.duration - 2.5) < 0.1, `duration ${p.duration}`);
    assert.equal(p.frames, 30);
    await expectProblem(sdk.stopDesktopRecording(), 409, "conflict");
  });

  it("stops by itself at maxSizeBytes", async () => {
    const { sdk } = server;
    const cap = 100_000;
    const rec = (await sdk.startDesktopRecording({ fps: 30, maxSizeBytes: cap } as never)) as Recording;
    await eventually("the recording to end by itself", async () => (await sdk.getDesktopRecording(rec.id)).status !== "recording", 60_000, 200);
    const done = (await sdk.getDesktopRecording(rec.id)) as Recording;
    assert.equal(done.status, "completed");
    assert.equal(done.endReason, "max_size");
    assert.ok(done.bytes >= cap * 0.8, `${done.bytes} bytes`);
    assert.ok(probe(await sdk.downloadDesktopRecording(rec.id)).frames > 0);
  });

  it("keeps a playable file and reports the failure truthfully when ffmpeg is killed; the desktop carries on", async () => {
    const { sdk } = server;
    const rec = (await sdk.startDesktopRecording({ fps: 20 })) as Recording;
    await eventually("a few fragments on disk", async () => (await sdk.getDesktopRecording(rec.id)).bytes > 60_000, 20_000, 100);
    const pid = recorderPid(server.stateDir, rec.fileName);
    assert.ok(pid, "the recorder's ffmpeg is running");
    process.kill(pid, "SIGKILL");
    await eventually("the recording to be closed", async () => (await sdk.getDesktopRecording(rec.id)).status !== "recording", 20_000, 100);
    const failed = (await sdk.getDesktopRecording(rec.id)) as Recording;
    assert.equal(failed.status, "failed");
    assert.equal(failed.endReason, "recorder_exited");
    assert.match(failed.error?.message ?? "", /SIGKILL/);
    assert.ok(failed.endedAt);
    assert.ok(failed.bytes > 0);

    const bytes = await sdk.downloadDesktopRecording(rec.id);
    const p = probe(bytes);
    assert.equal(p.codec, "h264");
    assert.ok(p.frames > 0 && p.duration > 0, `the file holds video up to the kill: ${JSON.stringify(p)}`);
    assert.equal(decodeErrors(bytes), "");

    const status = await sdk.getDesktopStatus();
    assert.equal(status.state, "active");
    assert.ok((await sdk.takeDesktopScreenshot()).byteLength > 0);
    const next = await sdk.startDesktopRecording({ fps: 5 });
    assert.equal((await sdk.stopDesktopRecording()).id, next.id, "a new recording can start and stop");
  });

  it("stop never hangs: an ffmpeg that does not react is killed after the grace period", async () => {
    const { sdk } = server;
    const rec = (await sdk.startDesktopRecording({ fps: 10 })) as Recording;
    await eventually("the first fragment on disk", async () => topLevelBoxes(await sdk.downloadDesktopRecording(rec.id)).includes("moof"), 20_000, 200);
    const pid = recorderPid(server.stateDir, rec.fileName);
    assert.ok(pid);
    process.kill(pid, "SIGSTOP"); // a stopped process ignores SIGINT until killed
    try {
      const stopped = (await sdk.stopDesktopRecording()) as Recording;
      assert.equal(stopped.status, "completed", "the caller asked to stop; the file holds everything up to the last fragment");
      assert.equal(stopped.endReason, "stopped");
      assert.ok(!alive(pid), "the frozen ffmpeg is gone");
      assert.ok(probe(await sdk.downloadDesktopRecording(rec.id)).frames > 0);
    } finally {
      if (alive(pid)) process.kill(pid, "SIGKILL");
    }
  });

  it("deletes a recording and its file", async () => {
    const { sdk } = server;
    const { recordings } = await sdk.listDesktopRecordings();
    assert.ok(recordings.length >= 4);
    assert.deepEqual(recordings.map((r) => r.id), [...recordings].sort((a, b) => Number(a.id.slice(4)) - Number(b.id.slice(4))).map((r) => r.id));
    const file = path.join(server.stateDir, "desktop", "recordings", main.fileName);
    assert.ok(existsSync(file));
    const res = await server.fetch(`/v1/desktop/recordings/${main.id}`, { method: "DELETE" });
    assert.equal(res.status, 204);
    assert.ok(!existsSync(file), "the MP4 is gone");
    assert.ok(!existsSync(file.replace(/\.mp4$/, ".json")), "its metadata is gone");
    await expectProblem(sdk.getDesktopRecording(main.id), 404, "not_found");
    await expectProblem(sdk.deleteDesktopRecording(main.id), 404, "not_found");
    assert.ok(!(await sdk.listDesktopRecordings()).recordings.some((r) => r.id === main.id));
  });
});

describe("recordings across server restarts", () => {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "glasspane-rec-state-"));
  const servers: TestServer[] = [];
  const boot = async () => {
    const s = await startServer({ args: ["--state-dir", stateDir], env: { LANG: "C.UTF-8", LC_ALL: "C.UTF-8" } });
    servers.push(s);
    return s;
  };

  after(async () => {
    for (const s of servers) await s.stop();
    await removeDir(stateDir);
  });

  it("lists finished recordings again, and closes one the killed server left running as a playable failed recording", async () => {
    const a = await boot();
    await a.sdk.startDesktop({ displayNum: 410, width: 640, height: 480 });
    await busyXterm(a);
    const first = await a.sdk.startDesktopRecording({ fps: 10 });
    await sleep(1500);
    const stopped = await a.sdk.stopDesktopRecording();

    // stopping the desktop finishes a recording in progress
    const second = await a.sdk.startDesktopRecording({ fps: 10 });
    await sleep(1500);
    await a.sdk.stopDesktop();
    const byDesktop = (await a.sdk.getDesktopRecording(second.id)) as Recording;
    assert.equal(byDesktop.status, "completed");
    assert.equal(byDesktop.endReason, "desktop_stopped");

    await a.sdk.startDesktop({ displayNum: 410, width: 640, height: 480 });
    await busyXterm(a);
    const third = await a.sdk.startDesktopRecording({ fps: 10 });
    await eventually("fragments on disk", async () => (await a.sdk.getDesktopRecording(third.id)).bytes > 10_000, 20_000, 100);
    const ffmpeg = recorderPid(stateDir, third.fileName);
    assert.ok(ffmpeg);
    const aExited = new Promise((r) => a.child.once("exit", r));
    a.child.kill("SIGKILL");
    await aExited;
    servers.splice(servers.indexOf(a), 1);
    rmSync(a.stateDir, { recursive: true, force: true });
    await eventually("the recorder to die with the server", () => !alive(ffmpeg), 15_000);

    const b = await boot();
    const { recordings } = await b.sdk.listDesktopRecordings();
    assert.deepEqual(recordings.map((r) => r.id), [first.id, second.id, third.id]);
    const [r1, r2, r3] = recordings as Recording[];
    assert.equal(r1!.status, "completed");
    assert.equal(r1!.bytes, stopped.bytes);
    assert.equal(r1!.startedAt, stopped.startedAt);
    assert.equal(r1!.endedAt, stopped.endedAt);
    assert.equal(r1!.processId ?? null, null, "process ids of the earlier run mean nothing now");
    assert.equal(r2!.endReason, "desktop_stopped");
    assert.equal(r3!.status, "failed", "the interrupted recording is no longer 'recording'");
    assert.equal(r3!.endReason, "server_exited");
    assert.ok(r3!.endedAt);
    for (const r of [r1!, r2!, r3!]) {
      const bytes = await b.sdk.downloadDesktopRecording(r.id);
      assert.equal(bytes.byteLength, r.bytes);
      const p = probe(bytes);
      assert.ok(p.frames > 0, `${r.id} plays: ${JSON.stringify(p)}`);
      assert.equal(p.rFrameRate, "10/1");
    }

    // a desktop started with its own stateDir keeps its recordings there
    const ownDir = path.join(stateDir, "own-desktop");
    await b.sdk.startDesktop({ displayNum: 410, width: 640, height: 480, stateDir: ownDir });
    const fourth = await b.sdk.startDesktopRecording({ fps: 10 });
    assert.equal(fourth.id, `rec_${Number(third.id.slice(4)) + 1}`, "ids keep counting after a restart");
    await b.sdk.stopDesktopRecording();
    assert.ok(existsSync(path.join(ownDir, "recordings", fourth.fileName)));
    assert.equal((await b.sdk.listDesktopRecordings()).recordings.length, 4);
    await b.stop();
    servers.splice(servers.indexOf(b), 1);
  });

  it("refuses a new recording when the disk budget is used up", async () => {
    const c = await startServer({ args: ["--state-dir", stateDir, "--recording-budget-mb", "1"] });
    servers.push(c);
    await c.sdk.startDesktop({ displayNum: 410, width: 640, height: 480 });
    await expectProblem(c.sdk.startDesktopRecording({ fps: 10 }), 409, "conflict");
  });
});
