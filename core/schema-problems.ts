/**
 * Schema failures as one readable line: each problem names the field by its path, says what was
 * expected and what was found, e.g. `config.model.depth: expected an integer >= 1, found "4"`.
 * Used by the readers of the model card (core/model-card.ts) and of a training run's config.json
 * (core/training-run.ts). Platform-neutral.
 */

/** What a zod issue carries that the line needs. */
export interface SchemaIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** The value at `path` inside `value`, undefined where the path leaves the object. */
export function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** A found value in a message: its JSON, cut at 40 characters; `nothing` when absent. */
export function describeFound(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 40 ? `${json.slice(0, 37)}...` : json;
}

/** `field: message, found X` for every issue, joined by `; `; `root` names the whole value when the path is empty. */
export function schemaProblems(issues: readonly SchemaIssue[], value: unknown, root: string): string {
  return issues
    .map((issue) => `${issue.path.map(String).join('.') || root}: ${issue.message}, found ${describeFound(valueAt(value, issue.path))}`)
    .join('; ');
}
