// The client against a real HTTP server on loopback (node:http), not a stubbed fetch.
import * as assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";

import { ApiError, createClient } from "../src";

let baseUrl = "";
const seen: { method?: string; url?: string; requestId?: string; body: string }[] = [];
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    seen.push({ method: req.method, url: req.url, requestId: req.headers["x-request-id"] as string, body });
    res.setHeader("content-type", "application/json");
    if (req.method === "GET" && req.url?.startsWith("/api/v1/items?")) {
      res.end(JSON.stringify({ items: [{ id: 1, name: "a", created_at: "2024-01-01T00:00:00Z" }], views: 3 }));
    } else if (req.method === "POST" && req.url === "/api/v1/items") {
      res.statusCode = 201;
      res.end(JSON.stringify({ id: 2, name: JSON.parse(body).name, created_at: "2024-01-01T00:00:00Z" }));
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ detail: "not found" }));
    }
  });
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(() => server.close());

test("lists and creates items, forwarding the request id", async () => {
  const client = createClient({ baseUrl, requestId: "req-7" });
  const list = await client.listItems(5);
  assert.equal(list.items[0].name, "a");
  assert.equal(list.views, 3);
  const item = await client.createItem("new thing");
  assert.deepEqual([item.id, item.name], [2, "new thing"]);
  assert.equal(seen[0].url, "/api/v1/items?limit=5");
  assert.equal(seen[1].requestId, "req-7");
});

test("an unexpected status is an ApiError carrying it", async () => {
  const client = createClient({ baseUrl });
  await assert.rejects(client.getItem(99), (error: unknown) => error instanceof ApiError && error.status === 404);
});

test("an unreachable API is an ApiError without a status", async () => {
  const client = createClient({ baseUrl: "http://127.0.0.1:9", timeoutMs: 1000 });
  await assert.rejects(client.health(), (error: unknown) => error instanceof ApiError && error.status === null);
});

test("a missing base URL is refused up front", () => {
  assert.throws(() => createClient({ baseUrl: "" }), ApiError);
});
