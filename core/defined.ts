/**
 * The fields of an options object whose value is not undefined, so that spreading it over
 * defaults keeps the defaults of the fields left out. Platform-neutral.
 *
 *   const options = { ...DEFAULTS, ...definedFields({ tile: 256, halo: undefined }) }; // halo keeps its default
 */
export function definedFields<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}
