/**
 * The lines of a command's stderr without the informational ones every run prints before its work:
 * which model file it uses (`model <name> on <provider>: <path>`, `no --model ...; model ...`) and
 * which pixel size (`pixel size ...`). What is left is what a test of an error message looks at.
 */
const INFORMATIONAL = [/^model \S+ on \w+(: .+)?$/, /^(emseg: )?no --model or EMSEG_MODEL set; model /, /^pixel size[ :]/];

export function problemLines(stderr: string): string[] {
  return stderr
    .trim()
    .split('\n')
    .filter((line) => line.length > 0 && !INFORMATIONAL.some((pattern) => pattern.test(line)));
}
