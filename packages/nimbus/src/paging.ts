/**
 * Walks a paged collection by following `metadata.nextPageToken`.
 */
import type { Collection } from "./types/common.js";

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
