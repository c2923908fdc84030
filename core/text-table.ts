/**
 * A table for a terminal: columns separated by two spaces, the first left-aligned (names), the
 * others right-aligned (figures), every line ending in a newline. Platform-neutral.
 */
export function formatTextTable(rows: readonly (readonly string[])[]): string {
  const columns = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  return rows.map((row) => `${row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')}\n`).join('');
}
