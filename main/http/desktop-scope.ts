import type { FastifyRequest } from "fastify";
import type { DesktopUnit, Desktops } from "../desktops/types.js";
import { DEFAULT_DESKTOP_ID } from "../desktops/types.js";
import type { App } from "./app.js";

/** The prefix of the default desktop's routes, and the template of every desktop's. */
export const DEFAULT_DESKTOP_PREFIX = "/v1/desktop";
export const DESKTOP_PREFIX = "/v1/desktops/:desktopId";

interface Scope {
  unit: DesktopUnit;
  /** the path this request's desktop routes hang under, e.g. `/v1/desktops/a1` */
  base: string;
}

const scopes = new WeakMap<FastifyRequest, Scope>();

/** The desktop a request under a desktop prefix addresses (set by `registerDesktopScopes`). */
export function scopeOf(req: FastifyRequest): Scope {
  const scope = scopes.get(req);
  if (!scope) throw new Error(`${req.routeOptions.url} is not registered under a desktop prefix`);
  return scope;
}

export const unitOf = (req: FastifyRequest): DesktopUnit => scopeOf(req).unit;

/**
 * Registers the desktop routes once per prefix: `/v1/desktop/...` is the default desktop,
 * `/v1/desktops/:desktopId/...` any desktop (404 for an unknown id, before validation).
 * Route files register relative paths and find their services with `unitOf(req)`.
 */
export async function registerDesktopScopes(app: App, desktops: Desktops, register: (scope: App) => void): Promise<void> {
  await app.register(
    async (scope: App) => {
      scope.addHook("onRequest", async (req) => void scopes.set(req, { unit: desktops.get(DEFAULT_DESKTOP_ID), base: DEFAULT_DESKTOP_PREFIX }));
      register(scope);
    },
    { prefix: DEFAULT_DESKTOP_PREFIX },
  );
  await app.register(
    async (scope: App) => {
      scope.addHook("onRequest", async (req) => {
        const id = (req.params as { desktopId: string }).desktopId;
        scopes.set(req, { unit: desktops.get(id), base: `/v1/desktops/${encodeURIComponent(id)}` });
      });
      register(scope);
    },
    { prefix: DESKTOP_PREFIX },
  );
}

/**
 * The desktop whose own token may reach this request: the id in the path of a route under
 * `/v1/desktops/:desktopId/`, or of `GET /v1/desktops/:desktopId`; undefined elsewhere
 * (deleting a desktop takes the runtime's token).
 */
export function desktopIdInPath(req: FastifyRequest): string | undefined {
  const url = req.routeOptions.url;
  const reachable = url === DESKTOP_PREFIX ? req.method === "GET" || req.method === "HEAD" : !!url?.startsWith(`${DESKTOP_PREFIX}/`);
  if (!reachable) return undefined;
  return (req.params as { desktopId?: string }).desktopId;
}
