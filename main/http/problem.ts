import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { GlasspaneError } from "../shared/errors.js";

/** RFC 7807 body; `type` is a stable URN, `code` repeats its last part for convenience. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** The documented shape of every error answer (OpenAPI). */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: "urn:glasspane:error:<code>" }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
  },
  { additionalProperties: true, description: "RFC 7807 problem (application/problem+json)" },
);

export function problem(code: string, status: number, detail: string, extra: Record<string, unknown> = {}): Problem {
  return { type: `urn:glasspane:error:${code}`, title: titleOf(code), status, detail, code, ...extra };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  // a Buffer keeps fastify from appending "; charset=utf-8" to the media type
  return reply.code(p.status).header("content-type", PROBLEM_CONTENT_TYPE).send(Buffer.from(JSON.stringify(p)));
}

/** Maps anything thrown in a route (ours, fastify's, or a bug) to a problem. */
export function toProblem(err: unknown, request: FastifyRequest): Problem {
  if (err instanceof GlasspaneError) return problem(err.code, err.status, err.message, err.extra);
  const fe = err as FastifyError & { validation?: Array<{ instancePath: string; message?: string; params?: unknown }>; validationContext?: string };
  if (fe?.validation) {
    const where = fe.validationContext ?? "request";
    const errors = fe.validation.map((v) => ({
      location: where,
      path: v.instancePath || "/",
      message: v.message ?? "invalid",
      params: v.params,
    }));
    const first = errors[0];
    const detail = first
      ? `invalid ${where}: ${first.path === "/" ? "" : `${first.path.slice(1).replaceAll("/", ".")} `}${describe(first.message, first.params)}`
      : `invalid ${where}`;
    return problem("invalid_request", 400, detail, { errors });
  }
  const status = typeof fe?.statusCode === "number" ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code = status === 415 ? "unsupported_media_type" : status === 413 ? "payload_too_large" : status === 404 ? "not_found" : "invalid_request";
    return problem(code, status, fe.message);
  }
  request.log.error({ err }, "unhandled error");
  return problem("internal", 500, `internal error: ${(err as Error)?.message ?? String(err)}`);
}

function describe(message: string, params: unknown): string {
  const p = params as { additionalProperty?: string; allowedValues?: unknown[] } | undefined;
  if (p?.additionalProperty) return `has an unknown field "${p.additionalProperty}"`;
  if (p?.allowedValues) return `${message}: ${p.allowedValues.join(", ")}`;
  return message;
}

function titleOf(code: string): string {
  return code
    .split("_")
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(" ");
}
