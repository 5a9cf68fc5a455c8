import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { version } from "../app/version.js";
import { SERVER_OPTIONS } from "./server-options.js";
import { daemon } from "./daemon.js";
import { toInt, UsageError } from "./args.js";
import { LIMITS } from "../shared/limits.js";
import { desktopPackages, detectPackageManager, installCommand, type PackageManager } from "../desktop/dependencies.js";
import { capOutputFile } from "./output-cap.js";

const USAGE = `glasspane ${version}: give an AI agent a Linux computer

Usage:
  glasspane server [--host 127.0.0.1] [--port 2468] [--token T | --no-token] [--allowed-host NAME ...]
                   [--cors-allow-origin O ...] [--cors-allow-method M ...]
                   [--cors-allow-header H ...] [--cors-allow-credentials]
                   [--desktop [--width 1440 --height 900]] [--state-dir DIR] [--fs-root DIR] [--log]
                   [--recording-budget-mb 2048] [--acp-timeout-ms 600000] [--acp-heartbeat-ms 15000]
                   [--max-desktops 8]
                   [--metrics-port N [--metrics-host 127.0.0.1]]
  glasspane daemon start [the server's options]
  glasspane daemon stop|status [--host 127.0.0.1] [--port 2468]
  glasspane mcp [--url http://127.0.0.1:2468] [--token T]
                   MCP over stdio, relayed to a running server's /v1/mcp (token also from GLASSPANE_TOKEN)
  glasspane install desktop [--yes] [--print-only] [--package-manager apt|dnf|apk]
  glasspane --version

Without --token or --no-token the server reads GLASSPANE_TOKEN, or makes up a token and prints it.
The server answers to loopback names, IP addresses, the --host name and each --allowed-host
("*" for any); requests that change something from a web page need its origin in --cors-allow-origin.
--metrics-port serves GET /metrics, /v1/health and /v1/health/ready on a second port without a token.`;

/** How long SIGTERM/SIGINT may take to stop everything before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 15_000;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "--version":
    case "-v":
    case "version":
      console.log(version);
      return 0;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(USAGE);
      return 0;
    case "server":
      return server(rest);
    case "install":
      return install(rest);
    case "daemon":
      return daemon(rest);
    case "mcp":
      return mcp(rest);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

async function server(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: SERVER_OPTIONS,
  });
  const port = toInt(values.port, "--port", 0, 65535);
  const metricsPort = values["metrics-port"] !== undefined ? toInt(values["metrics-port"], "--metrics-port", 0, 65535) : undefined;
  if (values["metrics-host"] !== undefined && metricsPort === undefined) throw new UsageError("--metrics-host needs --metrics-port");
  if (values.token !== undefined && values["no-token"]) throw new UsageError("--token and --no-token exclude each other");
  if (!values["cors-allow-origin"]?.length) {
    const stray = (["cors-allow-method", "cors-allow-header", "cors-allow-credentials"] as const).filter((k) => (Array.isArray(values[k]) ? (values[k] as string[]).length > 0 : values[k] === true));
    if (stray.length > 0) throw new UsageError(`${stray.map((k) => `--${k}`).join(", ")} need at least one --cors-allow-origin`);
  }
  let token: string | undefined = values.token ?? process.env.GLASSPANE_TOKEN;
  if (values["no-token"]) token = undefined;
  else if (!token) {
    token = randomBytes(18).toString("base64url");
    console.error(`glasspane: no --token given; this run's token is ${token}`);
  }
  capOutputFile();
  // loaded here, not at the top: `daemon status` and `--version` need none of the server's modules
  const { startRuntime } = await import("../app/runtime.js");
  const runtime = await startRuntime({
    host: values.host,
    port,
    token,
    allowedHosts: values["allowed-host"],
    corsAllowOrigins: values["cors-allow-origin"],
    corsAllowMethods: values["cors-allow-method"],
    corsAllowHeaders: values["cors-allow-header"],
    corsAllowCredentials: values["cors-allow-credentials"],
    desktop: values.desktop
      ? {
          width: values.width ? toInt(values.width, "--width", 64, 8192) : undefined,
          height: values.height ? toInt(values.height, "--height", 64, 8192) : undefined,
        }
      : undefined,
    stateDir: values["state-dir"],
    fsRoot: values["fs-root"],
    acpRequestTimeoutMs: values["acp-timeout-ms"] ? toInt(values["acp-timeout-ms"], "--acp-timeout-ms", 1, 2_147_483_647) : undefined,
    acpHeartbeatMs: values["acp-heartbeat-ms"] ? toInt(values["acp-heartbeat-ms"], "--acp-heartbeat-ms", 100, 2_147_483_647) : undefined,
    recordingBudgetBytes: values["recording-budget-mb"] ? toInt(values["recording-budget-mb"], "--recording-budget-mb", 1, 1024 ** 3) * 1024 ** 2 : undefined,
    maxDesktops: values["max-desktops"] ? toInt(values["max-desktops"], "--max-desktops", LIMITS.desktops.min, LIMITS.desktops.max) : undefined,
    logger: values.log,
    metricsPort,
    metricsHost: values["metrics-host"],
  });
  const status = values.desktop ? await runtime.desktop.status() : undefined;
  if (runtime.metricsUrl) console.log(`glasspane metrics and health on ${runtime.metricsUrl} (no token)`);
  console.log(`glasspane ${version} listening on ${runtime.url}${status ? ` (desktop ${status.display})` : ""}`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  // whatever clients do, stopping ends: the runtime's close is bounded, then the process exits
  const deadline = new Promise<"late">((resolve) => setTimeout(() => resolve("late"), SHUTDOWN_DEADLINE_MS).unref());
  const outcome = await Promise.race([runtime.close().then(() => "closed" as const), deadline]);
  if (outcome === "late") {
    console.error(`glasspane: shutdown took longer than ${SHUTDOWN_DEADLINE_MS / 1000} s; exiting anyway`);
    return 1;
  }
  return 0;
}

async function mcp(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { url: { type: "string", short: "u", default: "http://127.0.0.1:2468" }, token: { type: "string", short: "t" } },
  });
  try {
    new URL(values.url);
  } catch {
    throw new UsageError(`--url must be a URL such as http://127.0.0.1:2468 (got "${values.url}")`);
  }
  const { runBridge } = await import("../mcp/bridge.js");
  await runBridge({ url: values.url, token: values.token ?? process.env.GLASSPANE_TOKEN, log: (line) => console.error(line) });
  return 0;
}

async function install(args: string[]): Promise<number> {
  const [what, ...rest] = args;
  if (what !== "desktop") throw new UsageError(`unknown install target "${what ?? ""}" (expected: desktop)`);
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      yes: { type: "boolean", default: false },
      "print-only": { type: "boolean", default: false },
      "package-manager": { type: "string" },
    },
  });
  const pmArg = values["package-manager"];
  if (pmArg !== undefined && !["apt", "dnf", "apk"].includes(pmArg)) {
    throw new UsageError(`--package-manager must be apt, dnf or apk (got "${pmArg}")`);
  }
  const pm = (pmArg as PackageManager | undefined) ?? detectPackageManager();
  const command = installCommand(pm);
  if (values["print-only"]) {
    console.log(command);
    return 0;
  }
  console.log(`Glasspane's desktop needs these ${pm} packages: ${desktopPackages(pm).join(" ")}`);
  console.log(`Command: ${command}`);
  if (!values.yes) {
    console.log("Run again with --yes to install them, or run the command above yourself.");
    return 0;
  }
  const { runInForeground } = await import("../processes/foreground.js");
  return runInForeground(command);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof UsageError || (err as NodeJS.ErrnoException)?.code?.startsWith?.("ERR_PARSE_ARGS")) {
      console.error(`glasspane: ${(err as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(`glasspane: ${(err as Error)?.message ?? err}`);
    process.exit(1);
  },
);
