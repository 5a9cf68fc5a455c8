/**
 * What the server knows about its own routes, collected as they are registered, so the
 * generic rules (405 with Allow, OPTIONS, unknown query keys, bodies, WebSocket-only
 * upgrades) hold for every route, whoever adds it.
 */
export interface RouteFacts {
  url: string;
  methods: string[];
  websocket: boolean;
  /** a JSON body schema: the body must be application/json */
  jsonBody: boolean;
  /** a raw body (documented with `content`): the handler judges its type */
  rawBody: boolean;
  /** query keys the route takes; undefined = its query schema is not a plain object (not checked here) */
  queryKeys: string[] | undefined;
}

interface Pattern {
  regex: RegExp;
  facts: RouteFacts[];
}

export class RouteTable {
  private readonly byKey = new Map<string, RouteFacts>();
  private readonly patterns = new Map<string, Pattern>();

  add(route: { url: string; method: string | string[]; websocket?: boolean; schema?: Record<string, unknown> }): void {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map((m) => m.toUpperCase());
    const body = route.schema?.body as Record<string, unknown> | undefined;
    const query = route.schema?.querystring as { type?: string; properties?: Record<string, unknown> } | undefined;
    const facts: RouteFacts = {
      url: route.url,
      methods,
      websocket: route.websocket === true,
      jsonBody: body !== undefined && !("content" in body),
      rawBody: body !== undefined && "content" in body,
      // the API's routes; the UI's pages read their own query (?token=, ?server=)
      queryKeys: !route.url.startsWith("/v1/") ? undefined : query === undefined ? [] : query.type === "object" && query.properties ? Object.keys(query.properties) : undefined,
    };
    for (const m of methods) this.byKey.set(`${m} ${route.url}`, facts);
    let pattern = this.patterns.get(route.url);
    if (!pattern) {
      pattern = { regex: toRegex(route.url), facts: [] };
      this.patterns.set(route.url, pattern);
    }
    pattern.facts.push(facts);
  }

  /** The facts of the route a request was routed to (its pattern URL and method). */
  get(method: string, url: string | undefined): RouteFacts | undefined {
    return url === undefined ? undefined : this.byKey.get(`${method.toUpperCase()} ${url}`);
  }

  /** The methods some route answers for this concrete path; empty when no route matches it. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const p of this.patterns.values()) {
      if (p.regex.test(path)) for (const f of p.facts) for (const m of f.methods) methods.add(m);
    }
    if (methods.size > 0) methods.add("OPTIONS");
    return [...methods].sort();
  }
}

function toRegex(url: string): RegExp {
  const body = url
    .split("/")
    .map((seg) => (seg.startsWith(":") ? "[^/]+" : seg === "*" ? ".*" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\\\*$/, ".*")))
    .join("/");
  return new RegExp(`^${body}/?$`);
}
