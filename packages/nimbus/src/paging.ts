/**
 * Lists as the server answers them: a paged collection walked by following
 * `metadata.nextPageToken`, and an unpaged list in one `{items}` answer.
 */
import type { Transport } from "./transport.js";
import type { Collection } from "./types/common.js";

/**
 * The items of an unpaged list: `GET path` answers `{items}` whole.
 *
 * @example
 * const secrets = await listItems<Secret>(t, apiPath`/api/tenants/${tenantId}/secrets`, signal);
 */
export async function listItems<T>(t: Transport, path: string, signal: AbortSignal | undefined): Promise<T[]> {
  return (await t.request<{ items: T[] }>({ method: "GET", path, signal })).items;
}

/**
 * Yields every item of every page, fetching the next page only when the
 * consumer gets there.
 *
 * @example
 * for await (const s of paginate((pageToken) => nimbus.sandboxes.list({ pageToken }))) console.log(s);
 */
export async function* paginate<T>(
  fetchPage: (pageToken: string | undefined) => Promise<Collection<T>>,
  firstPageToken?: string,
): AsyncGenerator<T, void, undefined> {
  let token = firstPageToken;
  for (;;) {
    const page = await fetchPage(token);
    yield* page.items;
    const next = page.metadata.nextPageToken;
    // A server that repeats the token would loop forever; stop instead.
    if (!next || next === token || page.items.length === 0) return;
    token = next;
  }
}
