/** Shapes returned by the Shipyard API (apps/api). Keep in step with apps/api/app/main.py. */

export interface Item {
  id: number;
  name: string;
  /** ISO 8601 timestamp */
  created_at: string;
}

export interface ItemList {
  items: Item[];
  /** How many times the list was read (a Redis counter); null while Redis is unavailable. */
  views: number | null;
}

export type ServiceState = "connected" | "disconnected";

export interface ApiHealth {
  status: "ok" | "degraded";
  version: string;
  uptime_seconds: number;
  timestamp: string;
  services: { database: ServiceState; redis: ServiceState };
}
