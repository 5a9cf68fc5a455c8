/**
 * Errors that services throw. The HTTP layer turns them into RFC 7807 problems
 * (`urn:glasspane:error:<code>`); services never know about HTTP beyond the status hint.
 */
export type ErrorCode =
  | "invalid_request"
  | "not_found"
  | "window_not_found"
  | "no_focused_window"
  | "app_not_found"
  | "desktop_not_active"
  | "desktop_start_failed"
  | "desktop_dependencies_missing"
  | "desktop_limit_reached"
  | "conflict"
  | "control_held"
  | "payload_too_large"
  | "timeout"
  | "token_invalid"
  | "permission_denied"
  | "unsupported_media_type"
  | "insufficient_storage"
  | "out_of_descriptors"
  | "x11_error"
  | "recording_failed"
  | "browser_not_running"
  | "browser_start_failed"
  | "browser_unreachable"
  | "browser_missing"
  | "unsupported_agent"
  | "not_acceptable"
  | "agent_process_exited"
  | "install_failed"
  | "git_failed"
  | "internal";

export class GlasspaneError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "GlasspaneError";
  }
}

export const invalid = (message: string, extra?: Record<string, unknown>) =>
  new GlasspaneError("invalid_request", 400, message, extra);
export const notFound = (message: string, code: ErrorCode = "not_found") =>
  new GlasspaneError(code, 404, message);
export const conflict = (message: string, code: ErrorCode = "conflict") =>
  new GlasspaneError(code, 409, message);
