import type { ApiHealth, Item, ItemList } from "./types";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly url: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface ClientOptions {
  /** Base URL of the API, for example http://api:8000 inside Compose. No trailing path. */
  baseUrl: string;
  /** Per-request timeout in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Forwarded as X-Request-ID so one id follows a request from web to api. */
  requestId?: string;
  fetch?: typeof fetch;
}

export interface ApiClient {
  listItems(limit?: number): Promise<ItemList>;
  getItem(id: number): Promise<Item>;
  createItem(name: string): Promise<Item>;
  health(): Promise<ApiHealth>;
}

export function createClient(options: ClientOptions): ApiClient {
  if (!options.baseUrl) {
    throw new ApiError("API base URL is not configured", null, "");
  }
  const base = options.baseUrl.replace(/\/+$/, "");
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5000;

  async function call<T>(path: string, init: RequestInit = {}, expected = 200): Promise<T> {
    const url = `${base}${path}`;
    const headers = new Headers(init.headers);
    headers.set("accept", "application/json");
    if (options.requestId) headers.set("x-request-id", options.requestId);
    let response: Response;
    try {
      response = await doFetch(url, { ...init, headers, cache: "no-store", signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new ApiError(`cannot reach the API at ${url}: ${(error as Error).message}`, null, url);
    }
    if (response.status !== expected) {
      const detail = await response.text().catch(() => "");
      throw new ApiError(`${init.method ?? "GET"} ${url} answered ${response.status}: ${detail.slice(0, 200)}`,
        response.status, url);
    }
    return (await response.json()) as T;
  }

  return {
    listItems: (limit = 100) => call<ItemList>(`/api/v1/items?limit=${encodeURIComponent(limit)}`),
    getItem: (id) => call<Item>(`/api/v1/items/${encodeURIComponent(id)}`),
    createItem: (name) =>
      call<Item>("/api/v1/items", {
        method: "POST",
        body: JSON.stringify({ name }),
        headers: { "content-type": "application/json" },
      }, 201),
    health: () => call<ApiHealth>("/api/v1/health"),
  };
}
