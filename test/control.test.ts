// The human control lease: the lease itself, and GET /v1/desktop/control/ws as other
// clients of a real server see it (the page's side is in ui.test.ts).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { DesktopControl } from "../main/desktop/control.js";
import { GlasspaneError } from "../main/shared/errors.js";
import { eventually, startServer, type TestServer } from "./support/server.js";

describe("DesktopControl", () => {
  it("refuses input from anyone but the holder, and lets it through again once released", async () => {
    const control = new DesktopControl();
    control.check();
    const lease = control.take("Ada");
    assert.throws(() => control.check(), (e: GlasspaneError) => e.code === "control_held" && e.status === 409 && e.extra.holder === "Ada" && e.extra.since === lease.info.since);
    lease.run(() => control.check());
    // the holder's context carries across awaits
    await lease.run(async () => {
      await new Promise((r) => setTimeout(r, 5));
      control.check();
    });
    assert.throws(() => control.take("Bob"), /Ada has control/);
    assert.equal(control.status()?.holder, "Ada");
    lease.release();
    assert.equal(await lease.ended, "released");
    assert.equal(control.status(), null);
    control.check();
  });

  it("lapses after the idle timeout unless the holder gives input; force takes it over", async () => {
    // the lease's timer does not hold a process open (the server does); this test must
    const keepalive = setInterval(() => undefined, 1000);
    const control = new DesktopControl(150);
    const lease = control.take("Ada");
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 60));
      lease.touch();
    }
    assert.equal(control.status()?.holder, "Ada", "input did not keep the lease");
    assert.equal(await lease.ended, "idle");
    assert.equal(control.status(), null);
    const a = control.take("Ada");
    const b = control.take("Bob", { force: true });
    assert.equal(await a.ended, "taken over");
    assert.equal(control.status()?.holder, "Bob");
    a.release(); // a lease that was taken over cannot release the new one
    assert.equal(control.status()?.holder, "Bob");
    b.release();
    clearInterval(keepalive);
  });
});

describe("GET /v1/desktop/control/ws", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ token: "ctl", desktop: true });
  });
  after(() => server?.stop());

  const post = (p: string, body: object) => server.fetch(p, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const open = (query: string) =>
    new Promise<{ ws: WebSocket; granted: { holder: string; since: string } }>((resolve, reject) => {
      const ws = new WebSocket(`${server.url.replace("http", "ws")}/v1/desktop/control/ws?access_token=ctl&${query}`);
      ws.once("message", (m) => {
        const f = JSON.parse(m.toString());
        if (f.type === "granted") resolve({ ws, granted: f.control });
        else reject(new Error(m.toString()));
      });
      ws.once("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => reject(Object.assign(new Error(body), { status: res.statusCode, body })));
      });
      ws.once("error", reject);
    });

  it("holds the lease while open: other input is 409 control_held, the holder's input goes on, status shows it", async () => {
    const { ws, granted } = await open("holder=Ada");
    assert.equal(granted.holder, "Ada");
    const refused = await post("/v1/desktop/mouse/move", { x: 5, y: 5 });
    assert.equal(refused.status, 409);
    const problem = (await refused.json()) as Record<string, string>;
    assert.equal(problem.code, "control_held");
    assert.equal(problem.holder, "Ada");
    assert.equal(problem.since, granted.since);
    assert.equal((await post("/v1/desktop/clipboard", { text: "x" })).status, 409);
    const status = (await (await server.fetch("/v1/desktop/status")).json()) as { control: { holder: string } };
    assert.equal(status.control.holder, "Ada");

    // a second person is refused before the upgrade, with the same problem
    await assert.rejects(open("holder=Bob"), (e: { status: number; body: string }) => e.status === 409 && JSON.parse(e.body).code === "control_held");

    // the holder's input: a move frame in the data channel's layout
    const frame = Buffer.alloc(7);
    frame.writeUInt8(1, 0);
    frame.writeUInt16BE(4, 1);
    frame.writeUInt16BE(321, 3);
    frame.writeUInt16BE(123, 5);
    ws.send(frame);
    await eventually("the holder's move applied", async () => {
      const p = (await (await server.fetch("/v1/desktop/mouse/position")).json()) as { x: number; y: number };
      return p.x === 321 && p.y === 123;
    });

    // released by the holder: input from others works again
    const closed = new Promise((r) => ws.once("close", r));
    ws.send(JSON.stringify({ type: "release" }));
    await closed;
    assert.equal((await post("/v1/desktop/mouse/move", { x: 6, y: 6 })).status, 200);
  });

  it("ends when its socket closes, and force takes it over from another holder", async () => {
    const a = await open("holder=Ada");
    const aClosed = new Promise<string>((r) => a.ws.on("message", (m) => JSON.parse(m.toString()).type === "released" && r(JSON.parse(m.toString()).reason)));
    const b = await open("holder=Bob&force=true");
    assert.equal(await aClosed, "taken over");
    assert.equal(b.granted.holder, "Bob");
    b.ws.terminate();
    await eventually("the lease gone with the socket", async () => (await post("/v1/desktop/mouse/move", { x: 7, y: 7 })).status === 200);
  });
});
