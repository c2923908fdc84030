/**
 * CSV text (RFC 4180): a header line and one line per row, fields separated by commas, a field
 * quoted when it holds a comma, a quote or a line break (quotes doubled), lines ended by CRLF as
 * the RFC says. Numbers are written as given by `String` (shortest round-trip form); NaN,
 * undefined and null are empty fields. Platform-neutral.
 *
 *   formatCsv(['label', 'area'], [[1, 52], [2, 40]]);   // "label,area\r\n1,52\r\n2,40\r\n"
 */
export type CsvValue = string | number | null | undefined;

function field(value: CsvValue): string {
  if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The CSV text of `rows` under `header`; every row must have one value per column. */
export function formatCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  const lines = [header.map(field).join(',')];
  rows.forEach((row, i) => {
    if (row.length !== header.length) throw new RangeError(`rows[${i}]: expected ${header.length} values (${header.join(', ')}), found ${row.length}`);
    lines.push(row.map(field).join(','));
  });
  return `${lines.join('\r\n')}\r\n`;
}
