/**
 * JSON with object keys sorted, so that two equal values give the same string whatever the order
 * their keys were written in: how stored job identities are compared (node/ome-zarr-sink.ts,
 * node/label-chunk-store.ts). Platform-neutral.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
