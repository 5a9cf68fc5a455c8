import { Type } from "typebox";
import { LIMITS } from "../../shared/limits.js";
import { DesktopWindowInfo, Opt } from "./desktop.js";

/** `/v1/desktop/browser/*` (Glasspane's own; the reference has no browser endpoints). */
const Size = Type.Integer({ minimum: LIMITS.windowSize.min, maximum: LIMITS.windowSize.max });

export const BrowserStartRequest = Type.Object(
  {
    url: Opt(Type.String({ minLength: 1, maxLength: LIMITS.urlLength.max, description: "the page opened at start (about:blank)" })),
    windowSize: Opt(Type.Object({ width: Size, height: Size }, { additionalProperties: false, description: "outer window size in pixels; absent: maximized" })),
    maximized: Opt(Type.Boolean({ description: "fill the screen (the default without windowSize)" })),
    profile: Opt(Type.String({ minLength: 1, maxLength: LIMITS.browserProfileName.max, pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$", description: 'a named profile kept under <stateDir>/browser/profiles ("default")' })),
    freshProfile: Opt(Type.Boolean({ description: "a new empty profile, deleted when the browser stops" })),
    args: Opt(Type.Array(Type.String({ minLength: 3, maxLength: LIMITS.browserFlagLength.max, pattern: "^--" }), { maxItems: LIMITS.browserFlags.max, description: "further Chromium flags" })),
    proxy: Opt(
      Type.Object(
        {
          server: Type.String({ minLength: 1, maxLength: 2048, description: "--proxy-server, e.g. http://proxy:3128 or socks5://host:1080" }),
          bypass: Opt(Type.String({ maxLength: 4096, description: "--proxy-bypass-list, e.g. localhost;*.internal" })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const Target = Type.Object({ id: Type.String(), type: Type.String(), title: Type.String(), url: Type.String() });

export const BrowserStatusResponse = Type.Object({
  state: Type.Enum(["stopped", "starting", "running", "restarting"]),
  processId: Opt(Type.String({ description: "the Chromium process in GET /v1/processes" })),
  pid: Opt(Type.Integer()),
  restarts: Type.Integer({ minimum: 0 }),
  version: Opt(Type.Object({ browser: Type.String(), protocolVersion: Type.String(), userAgent: Type.String(), v8Version: Opt(Type.String()) })),
  debuggingPort: Opt(Type.Integer({ description: "the browser's own DevTools port, on 127.0.0.1 only" })),
  cdp: Opt(
    Type.Object({
      webSocketDebuggerUrl: Type.String({ description: "the browser's CDP endpoint through Glasspane (token: header or ?access_token=)" }),
      httpUrl: Type.String({ description: "the base clients append /json/version and /json/list to" }),
    }),
  ),
  cdpClients: Type.Integer({ minimum: 0 }),
  pages: Type.Array(Target),
  windows: Type.Array(DesktopWindowInfo, { description: "the browser's windows on the desktop (ids for the window and action endpoints)" }),
  profile: Opt(Type.String()),
  profileDir: Opt(Type.String()),
  downloadsDir: Opt(Type.String({ description: "where downloads land; readable through /v1/fs" })),
  display: Opt(Type.String()),
  startedAt: Opt(Type.String()),
  lastError: Opt(Type.Object({ code: Type.String(), message: Type.String() })),
});

export const DevtoolsTargetParams = Type.Object({
  kind: Type.String({ pattern: "^[a-z_]{1,32}$" }),
  id: Type.String({ pattern: "^[A-Za-z0-9._-]{1,128}$" }),
});

/** Chromium's discovery documents, passed on with their URLs rewritten. */
export const DiscoveryVersionResponse = Type.Object({ webSocketDebuggerUrl: Type.String() }, { additionalProperties: true });
export const DiscoveryListResponse = Type.Array(Type.Object({ id: Type.String(), type: Type.String() }, { additionalProperties: true }));
