import { ApiError, type ItemList } from "@shipyard/api-client";

import { api, version } from "../lib/api";

// Always render on request: the list lives in the API, not in the build.
export const dynamic = "force-dynamic";

const HEADING = "Shipyard items";

async function load(): Promise<{ list: ItemList | null; error: string | null }> {
  try {
    return { list: await api().listItems(50), error: null };
  } catch (error) {
    const message = error instanceof ApiError ? error.message : "unexpected error";
    return { list: null, error: message };
  }
}

export default async function Home() {
  const { list, error } = await load();
  return (
    <main>
      <h1>{HEADING}</h1>
      <form method="post" action="/api/items" style={{ display: "flex", gap: "0.5rem" }}>
        <input name="name" required maxLength={200} placeholder="New item" aria-label="Item name" />
        <button type="submit">Add</button>
      </form>
      {error ? (
        <p role="alert" data-testid="api-error">
          The API is unavailable: {error}
        </p>
      ) : (
        <>
          <ul data-testid="items">
            {list?.items.map((item) => (
              <li key={item.id} data-item-id={item.id}>
                {item.name}
              </li>
            ))}
          </ul>
          <p data-testid="stats">
            {list?.items.length ?? 0} item(s); list viewed {list?.views ?? "?"} time(s)
          </p>
        </>
      )}
      <footer style={{ color: "#666", fontSize: "0.8rem" }}>web {version}</footer>
    </main>
  );
}
