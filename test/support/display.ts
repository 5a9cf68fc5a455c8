import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { pollUntil, sleep } from "../../main/shared/deadline.js";
import { XConnection } from "../../main/desktop/x11/connection.js";

/**
 * A real Xvfb (optionally with openbox) for tests of the desktop modules, with every
 * child it starts. A program that cannot start fails the test loudly, never quietly.
 */
export class TestDisplay {
  readonly env: NodeJS.ProcessEnv;
  private readonly children: ChildProcess[] = [];
  private readonly conns: XConnection[] = [];

  private constructor(readonly name: string) {
    this.env = { ...process.env, DISPLAY: name, LANG: "C.UTF-8", LC_ALL: "C.UTF-8" };
  }

  /** Starts Xvfb on `name` (which must be free) and, unless `wm: false`, openbox on it. */
  static async start(name: string, opts: { width: number; height: number; wm?: boolean }): Promise<TestDisplay> {
    const num = name.slice(1);
    const lock = `/tmp/.X${num}-lock`;
    if (existsSync(lock) && isAlive(Number(readFileSync(lock, "utf8").trim()))) throw new Error(`display ${name} is already in use (${lock})`);
    const d = new TestDisplay(name);
    try {
      const xvfb = d.spawn("Xvfb", [name, "-screen", "0", `${opts.width}x${opts.height}x24`, "-nolisten", "tcp"]);
      const up = await pollUntil(async () => {
        if (xvfb.exitCode !== null) throw new Error(`Xvfb ${name} exited with ${xvfb.exitCode}`);
        return existsSync(`/tmp/.X11-unix/X${num}`) ? true : undefined;
      }, 10_000, 25);
      if (!up) throw new Error(`Xvfb ${name} did not start within 10 s`);
      const probe = await d.connect();
      if (opts.wm !== false) {
        d.spawn("openbox", ["--sm-disable"]);
        const wm = await pollUntil(() => probe.getProperty(probe.screen.root, "_NET_SUPPORTING_WM_CHECK"), 10_000, 25);
        if (!wm) throw new Error(`openbox did not manage ${name} within 10 s`);
      }
      return d;
    } catch (err) {
      await d.stop();
      throw err;
    }
  }

  /** A new X connection to the display, closed by stop(). */
  async connect(): Promise<XConnection> {
    const c = await XConnection.open(this.name, 5000);
    this.conns.push(c);
    return c;
  }

  /** Starts a program on the display; a spawn failure (missing program) throws at the next await. */
  spawn(cmd: string, args: string[]): ChildProcess {
    const child = spawn(cmd, args, { env: this.env, stdio: "ignore" });
    child.on("error", (err) => {
      throw new Error(`cannot start ${cmd}: ${err.message}`);
    });
    this.children.push(child);
    return child;
  }

  /** Closes the connections and stops every child: SIGTERM, then SIGKILL after 3 s. */
  async stop(): Promise<void> {
    for (const c of this.conns) c.close();
    for (const child of this.children.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(3000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
