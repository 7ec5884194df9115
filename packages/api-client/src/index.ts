export { ApiError, createClient } from "./client";
export type { ApiClient, ClientOptions } from "./client";
export type { ApiHealth, Item, ItemList, ServiceState } from "./types";
