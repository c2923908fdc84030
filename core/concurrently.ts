/**
 * Runs an async step for each item with at most `limit` steps in flight: the items are taken from
 * the iterable one at a time as steps finish, so a long or lazy iterable is never read ahead. The
 * first failure stops the taking of items; the steps already in flight are waited for, then that
 * first error is thrown. Resolves when every item's step is done.
 *
 *   await forEachConcurrently(allChunks(level), 4, (chunk) => buildChunk(chunk));
 */
export async function forEachConcurrently<T>(items: Iterable<T>, limit: number, step: (item: T) => Promise<void>): Promise<void> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit: expected an integer >= 1, found ${limit}`);
  const iterator = items[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (!failure) {
      const next = iterator.next();
      if (next.done) return;
      try {
        await step(next.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
  if (failure) throw failure.error;
}
