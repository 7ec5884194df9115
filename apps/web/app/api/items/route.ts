import { ApiError } from "@shipyard/api-client";

import { api } from "../../../lib/api";

export const dynamic = "force-dynamic";

/**
 * Adds an item through the API. An HTML form post redirects back to the list (works without JavaScript);
 * a JSON post gets the created item.
 */
export async function POST(request: Request) {
  const isForm = (request.headers.get("content-type") ?? "").includes("form");
  let name = "";
  if (isForm) {
    name = String((await request.formData()).get("name") ?? "");
  } else {
    const body = (await request.json().catch(() => ({}))) as { name?: unknown };
    name = typeof body.name === "string" ? body.name : "";
  }
  if (!name.trim()) {
    return Response.json({ error: "name is required" }, { status: 400 });
  }
  try {
    const item = await api(request.headers.get("x-request-id") ?? undefined).createItem(name);
    if (isForm) {
      return new Response(null, { status: 303, headers: { location: "/" } });
    }
    return Response.json(item, { status: 201 });
  } catch (error) {
    const status = error instanceof ApiError && error.status === 422 ? 400 : 502;
    return Response.json({ error: (error as Error).message }, { status });
  }
}
