import { GlasspaneError } from "../shared/errors.js";

/** Turns a failed node:fs call on `p` into a problem a caller can act on. */
export function fsError(err: unknown, p: string, action: string): unknown {
  if (err instanceof GlasspaneError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  const e = (status: number, errorCode: GlasspaneError["code"], message: string) =>
    new GlasspaneError(errorCode, status, `cannot ${action} ${p}: ${message}`, { errno: code });
  switch (code) {
    case "ENOENT":
      return e(404, "not_found", "no such file or directory");
    case "EACCES":
    case "EPERM":
      return e(403, "permission_denied", "permission denied");
    case "EROFS":
      return e(403, "permission_denied", "read-only file system");
    case "ENOTDIR":
      return e(409, "conflict", "a component of the path is not a directory");
    case "EISDIR":
      return e(409, "conflict", "it is a directory");
    case "EEXIST":
      return e(409, "conflict", "it already exists and is not a directory");
    case "ENOTEMPTY":
      return e(409, "conflict", "the directory is not empty");
    case "EBUSY":
      return e(409, "conflict", "it is busy (a mount point or in use)");
    case "EIO":
      // e.g. /proc/self/mem: the kernel refuses this read; a failing disk says the same
      return e(409, "conflict", "input/output error (a special file that cannot be read this way?)");
    case "ENAMETOOLONG":
      return e(400, "invalid_request", "a name in the path is too long");
    case "ELOOP":
      return e(400, "invalid_request", "too many levels of symbolic links");
    case "EINVAL":
    case "ERR_FS_CP_EINVAL":
      return e(400, "invalid_request", "invalid argument (a directory into itself?)");
    case "ERR_FS_CP_DIR_TO_NON_DIR":
    case "ERR_FS_CP_NON_DIR_TO_DIR":
    case "ERR_FS_CP_EEXIST":
      return e(409, "conflict", (err as Error).message);
    case "ECONNRESET":
    case "ECONNABORTED":
    case "ERR_STREAM_PREMATURE_CLOSE":
      return e(400, "invalid_request", "the request body ended early (the client went away?)");
    case "ENXIO":
    case "ENODEV":
    case "EOPNOTSUPP":
    case "ENOTSUP":
    case "ESPIPE":
    case "EAGAIN":
    case "ETXTBSY":
      // a device or socket that cannot be opened or read as a file
      return e(409, "conflict", `it cannot be read or written as a file (${code})`);
    case "ENOSPC":
    case "EDQUOT":
      return e(507, "insufficient_storage", "no space left on the device");
    default:
      return err;
  }
}
