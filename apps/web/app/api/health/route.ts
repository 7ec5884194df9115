import { version } from "../../../lib/api";

export const dynamic = "force-dynamic";

const started = Date.now();

/** Liveness of the web server itself; it does not call the API (the API has its own probes). */
export function GET() {
  return Response.json({
    status: "ok",
    service: "shipyard-web",
    version,
    uptime_seconds: (Date.now() - started) / 1000,
    timestamp: new Date().toISOString(),
  });
}
