/**
 * Slice selections as people type them: "0,5,25-29" -> [0, 5, 25, 26, 27, 28, 29] (parseSliceList),
 * and back (formatSliceList). Ranges are inclusive; order is kept and duplicates are dropped.
 * Checked against the stack's page count.
 */
import { EmsegError } from './errors.ts';

/**
 * Parses `spec` for a stack of `pageCount` pages. `argument` names the option in errors
 * (default '--slices').
 */
export function parseSliceList(spec: string, pageCount: number, argument = '--slices'): number[] {
  const out: number[] = [];
  const last = pageCount - 1;
  for (const rawPart of spec.split(',')) {
    const part = rawPart.trim();
    const match = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!match) {
      throw new EmsegError('E_BAD_ARGUMENT', `${argument}: expected slice numbers and ranges like 0,5,25-29, found '${spec}'`);
    }
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to < from) throw new EmsegError('E_BAD_ARGUMENT', `${argument}: range ${part} runs backwards`);
    if (to > last) {
      throw new EmsegError('E_BAD_ARGUMENT', `${argument}: slice ${to} is out of range, the stack has slices 0-${last}`);
    }
    for (let s = from; s <= to; s += 1) if (!out.includes(s)) out.push(s);
  }
  return out;
}

/** Writes a sorted index list back compactly: [0,1,2,5] -> "0-2,5". */
export function formatSliceList(indices: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < indices.length) {
    let j = i;
    while (j + 1 < indices.length && indices[j + 1] === indices[j]! + 1) j++;
    parts.push(j === i ? `${indices[i]}` : `${indices[i]}-${indices[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
