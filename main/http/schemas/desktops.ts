import { Type } from "typebox";
import { LIMITS } from "../../shared/limits.js";
import { DesktopResolution, DesktopStartRequest, DesktopStatusResponse, Opt } from "./desktop.js";

/** `/v1/desktops`: several desktops in one runtime; each one's routes are `/v1/desktops/{id}/...`. */
export const DesktopId = Type.String({ minLength: 1, maxLength: LIMITS.desktopId.max, pattern: "^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$", description: "a slug: lower-case letters, digits, inner dashes" });

export const DesktopCreateRequest = Type.Object(
  {
    ...DesktopStartRequest.properties,
    id: Opt(DesktopId),
    accessToken: Opt(Type.Boolean({ description: "create a token that reaches only this desktop's routes (shown once, kept in memory only)" })),
  },
  { additionalProperties: false },
);

export const DesktopCreateResponse = Type.Object({
  id: Type.String(),
  status: DesktopStatusResponse,
  accessToken: Type.Optional(Type.String({ description: "Bearer token for /v1/desktops/{id}/... only" })),
});

export const DesktopSummary = Type.Object({
  id: Type.String(),
  state: DesktopStatusResponse.properties.state,
  display: Opt(Type.String()),
  resolution: Opt(DesktopResolution),
  startedAt: Opt(Type.String()),
  accessToken: Type.Boolean({ description: "whether a per-desktop token guards it" }),
});

export const DesktopListResponse = Type.Object({ desktops: Type.Array(DesktopSummary), maxDesktops: Type.Integer() });
export const DesktopIdParams = Type.Object({ desktopId: Type.String({ maxLength: 200 }) });
