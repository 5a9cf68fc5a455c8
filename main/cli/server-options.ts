/** The options of `glasspane server`; `glasspane daemon start` takes the same and passes them on. */
export const SERVER_OPTIONS = {
  host: { type: "string", short: "H", default: "127.0.0.1" },
  port: { type: "string", short: "p", default: "2468" },
  token: { type: "string", short: "t" },
  "no-token": { type: "boolean", short: "n", default: false },
  "allowed-host": { type: "string", multiple: true },
  "cors-allow-origin": { type: "string", multiple: true },
  "cors-allow-method": { type: "string", multiple: true },
  "cors-allow-header": { type: "string", multiple: true },
  "cors-allow-credentials": { type: "boolean", default: false },
  desktop: { type: "boolean", default: false },
  width: { type: "string" },
  height: { type: "string" },
  "state-dir": { type: "string" },
  "fs-root": { type: "string" },
  "recording-budget-mb": { type: "string" },
  "max-desktops": { type: "string" },
  log: { type: "boolean", default: false },
  "acp-timeout-ms": { type: "string" },
  "acp-heartbeat-ms": { type: "string" },
  "metrics-port": { type: "string" },
  "metrics-host": { type: "string" },
} as const;

/** Where a daemon lives, for `daemon stop` and `daemon status`. */
export const ADDRESS_OPTIONS = {
  host: SERVER_OPTIONS.host,
  port: SERVER_OPTIONS.port,
} as const;
