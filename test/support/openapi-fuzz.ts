import fc from "fast-check";

/**
 * Bad requests generated from the server's own OpenAPI document: for every operation,
 * parameters and bodies that are sometimes right and mostly wrong (wrong types, missing
 * and extra fields, huge, negative and non-finite numbers, 1 MB strings, NUL and invalid
 * UTF-8, empty and non-JSON bodies, wrong content types, unknown ids, path traversal,
 * special files).
 */
export interface Operation {
  method: string;
  path: string;
  id: string;
  params: Array<{ in: string; name: string; required?: boolean; schema?: Schema }>;
  /** media type -> schema of the request body */
  body?: Record<string, Schema | undefined>;
}

export interface FuzzRequest {
  op: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

type Schema = {
  type?: string | string[];
  enum?: unknown[];
  anyOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
};

const MB = "x".repeat(1024 * 1024);

/** `arb` one time in ten, else null. */
function rarely<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
}

export function operationsOf(doc: { paths: Record<string, Record<string, any>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, o] of Object.entries(methods)) {
      const content = o.requestBody?.content as Record<string, { schema?: Schema }> | undefined;
      ops.push({
        method: method.toUpperCase(),
        path,
        id: o.operationId ?? `${method} ${path}`,
        params: o.parameters ?? [],
        body: content && Object.fromEntries(Object.entries(content).map(([t, c]) => [t, c.schema])),
      });
    }
  }
  return ops;
}

/** Strings a careless or hostile client sends. */
const nastyString = fc.constantFrom(
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "../../../../../../etc/passwd",
  "..",
  "/",
  "~",
  "~root/x",
  "/proc/self/x",
  "/proc/self/mem",
  "/proc/self/x/y/z",
  "/sys/kernel/x",
  "/dev/zero",
  "/dev/tty",
  "/dev/stdin",
  "/dev/urandom",
  "\ud800",
  "%00",
  "%zz",
  "proc_999999",
  "rec_999999",
  "4294967295",
  "-1",
  "NaN",
  "1e400",
  "ü".repeat(300),
  "n".repeat(300),
  MB,
);

const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  fc.constantFrom(null, true, false, 0, -1, -0.5, 1.5, 1e308, -1e308, 2 ** 53 + 1, -(2 ** 31) - 1, 2 ** 32, [], {}, [[[[]]]], { a: { b: {} } }),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 30 }),
);

/**
 * Fields whose valid values would reach outside the test's own directories (a desktop
 * stateDir of "/" would write /home/.config): their values come from here instead.
 */
let overrides: Record<string, fc.Arbitrary<unknown>> = {};

function validValue(s: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!s || depth > 3) return fc.constant(null);
  if (s.enum) return fc.constantFrom(...s.enum);
  if (s.anyOf) return fc.oneof(...s.anyOf.map((x) => validValue(x, depth + 1)));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case "integer":
      return fc.integer({ min: Math.max(s.minimum ?? -1000, -(2 ** 31)), max: Math.min(s.maximum ?? 1000, 2 ** 31 - 1) });
    case "number":
      return fc.double({ min: s.minimum ?? -1000, max: s.maximum ?? 1000, noNaN: true });
    case "boolean":
      return fc.boolean();
    case "string":
      return fc.string({ maxLength: Math.min(s.maxLength ?? 20, 20) });
    case "array":
      return fc.array(validValue(s.items, depth + 1), { maxLength: 3 });
    case "null":
      return fc.constant(null);
    case "object":
      return objectValue(s, depth);
    default:
      return fc.constant(null);
  }
}

/** An object: each field missing, right or wrong, sometimes with a field it does not take. */
function objectValue(s: Schema, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.entries(s.properties ?? {}).map(([name, ps]) =>
    overrides[name] ? fc.option(overrides[name]!).map((v) => [name, v ?? undefined] as const) : fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 12, arbitrary: validValue(ps, depth + 1) }, { weight: 1, arbitrary: nastyValue }).map((v) => [name, v] as const),
  );
  return fc.tuple(fc.tuple(...fields), rarely(fc.tuple(fc.constantFrom("extra", "__proto__", "constructor", ""), nastyValue))).map(([entries, extra]) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) if (v !== undefined) out[k] = v;
    if (extra) Object.defineProperty(out, extra[0], { value: extra[1], enumerable: true });
    return out;
  });
}

/** Text for a query or path parameter. */
function paramText(s: Schema | undefined): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: validValue(s).map((v) => (typeof v === "string" ? v : JSON.stringify(v) ?? "")) },
    { weight: 2, arbitrary: nastyValue.map((v) => (typeof v === "string" ? v : JSON.stringify(v) ?? "")) },
  );
}

/** Raw bodies that are not (good) JSON. */
const rawBodies = fc.constantFrom(
  Buffer.from(""),
  Buffer.from("{"),
  Buffer.from("NaN"),
  Buffer.from('{"x": NaN}'),
  Buffer.from('{"x": Infinity, "y": -Infinity}'),
  Buffer.from("[1,2"),
  Buffer.from("null"),
  Buffer.from("[]"),
  Buffer.from('"text"'),
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x22, 0x7d]), // {"a":"<invalid UTF-8>"}
  Buffer.from("[".repeat(5000) + "]".repeat(5000)),
  Buffer.from(`{"text":"${MB}"}`),
  Buffer.alloc(4096, 0),
);

const contentTypes = fc.constantFrom(
  "application/json",
  "application/json",
  "application/json",
  "text/plain",
  "",
  "application/json; charset=utf-16",
  "multipart/form-data; boundary=x",
  "application/x-www-form-urlencoded",
  "a/b/c",
  "application/x-tar",
  "application/octet-stream",
);

/** `safeDir`: the only place a generated desktop stateDir may point to (besides paths the server must refuse). */
export function requestFor(op: Operation, auth: Record<string, string>, safeDir: string): fc.Arbitrary<FuzzRequest> {
  overrides = {
    stateDir: fc.constantFrom(`${safeDir}/desktop`, `${safeDir}/${"n".repeat(300)}`, "/proc/self/x", "/sys/x", "relative", "a\u0000b", "/dev/null/x", "", 7, null),
  };
  const pathParams = op.params.filter((p) => p.in === "path");
  const queryParams = op.params.filter((p) => p.in === "query" && p.name !== "access_token");
  const pathArb = fc.tuple(...pathParams.map((p) => fc.tuple(fc.constant(p.name), paramText(p.schema), fc.boolean())));
  const queryArb = fc.tuple(
    fc.tuple(...queryParams.map((p) => fc.option(fc.tuple(fc.constant(p.name), paramText(p.schema)), { freq: 3 }))),
    rarely(fc.tuple(fc.constantFrom("unknown", "path", "x[]", "__proto__"), nastyString)),
  );
  const mediaTypes = Object.keys(op.body ?? {});
  const jsonSchema = op.body?.["application/json"];
  const bodyArb: fc.Arbitrary<{ body?: Buffer; type?: string }> = fc.oneof(
    { weight: jsonSchema ? 6 : 1, arbitrary: (jsonSchema ? validValue(jsonSchema) : fc.constant({})).map((v) => ({ body: Buffer.from(JSON.stringify(v) ?? "null"), type: "application/json" })) },
    { weight: 2, arbitrary: fc.tuple(rawBodies, contentTypes).map(([body, type]) => ({ body, type })) },
    { weight: 2, arbitrary: fc.tuple(nastyValue, contentTypes).map(([v, type]) => ({ body: Buffer.from(JSON.stringify(v) ?? ""), type })) },
    { weight: mediaTypes.length === 0 ? 12 : 1, arbitrary: fc.constant({}) },
    ...(mediaTypes.some((t) => t !== "application/json") ? [{ weight: 2, arbitrary: fc.tuple(rawBodies, fc.constantFrom(...mediaTypes)).map(([body, type]) => ({ body, type })) }] : []),
  );
  return fc.tuple(pathArb, queryArb, bodyArb).map(([pp, [qp, extra], b]) => {
    let path = op.path;
    for (const [name, value, raw] of pp) path = path.replace(`{${name}}`, raw && /^[\x21-\x7e]+$/.test(value) ? value.replace(/[/?#]/g, "_") : encodeURIComponent(Buffer.from(value).toString()) || "x");
    const q = new URLSearchParams();
    for (const entry of qp) if (entry) q.append(entry[0], entry[1]);
    if (extra) q.append(extra[0], extra[1]);
    const qs = q.toString();
    const headers: Record<string, string> = { ...auth };
    if (b.type) headers["content-type"] = b.type;
    return { op: op.id, method: op.method, path: qs ? `${path}?${qs}` : path, headers, body: b.body };
  });
}
