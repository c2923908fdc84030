/**
 * The command line as the user could type it again (POSIX shell quoting), recorded in config.json,
 * evaluation JSON and model cards: `emseg train --out 'runs/a b' --steps 10`.
 */
const quote = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

export function commandLine(words: readonly string[]): string {
  return words.map(quote).join(' ');
}
