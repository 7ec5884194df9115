import { createClient, type ApiClient } from "@shipyard/api-client";

/**
 * The API as seen from the web server. API_INTERNAL_URL is read at request time (never baked into the build),
 * so one image runs against Compose (http://api:8000), a VM or a Kubernetes Service unchanged.
 */
export function api(requestId?: string): ApiClient {
  return createClient({ baseUrl: process.env.API_INTERNAL_URL ?? "", requestId, timeoutMs: 5000 });
}

export const version = process.env.APP_VERSION ?? "dev";
