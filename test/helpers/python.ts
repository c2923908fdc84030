/**
 * Debian's /usr/bin/python3 as an independent reader in cross-checks (tifffile, zarr, numpy).
 * Without the modules the check is skipped with a warning, unless CI is set (then it runs and fails).
 */
import { spawnSync } from 'node:child_process';

export const python = '/usr/bin/python3';

/** True when the cross-check should run: python3 has `modules`, or CI is set. */
export function pythonCanRun(modules: string, testName: string, packages: string): boolean {
  const ok = spawnSync(python, ['-c', `import ${modules}`], { encoding: 'utf8' }).status === 0;
  if (!ok && !process.env['CI']) {
    console.warn(`[${testName}] SKIPPED the Python cross-check: /usr/bin/python3 lacks ${modules} (apt-get install ${packages})`);
  }
  return ok || Boolean(process.env['CI']);
}

/** Runs a Python script with arguments and parses the JSON it prints; throws with its stderr on failure. */
export function runPythonJson(script: string, args: readonly string[]): unknown {
  const result = spawnSync(python, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`python3 failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}
