/**
 * The reference ONNX checker: `onnx.checker.check_model(model, full_check=True)` of Python's
 * onnx package (Debian's python3-onnx in CI), run in one child process for any number of files.
 * Node-only; used by the tests and by `emseg convert --check`.
 */
import { spawnSync } from 'node:child_process';

export const PYTHON = process.env['EMSEG_PYTHON'] ?? '/usr/bin/python3';

export interface CheckerResult {
  path: string;
  /** False when Python or its onnx package is missing (then `ok` says nothing). */
  available: boolean;
  ok: boolean;
  /** 'ok', the checker's message on failure, or why the checker is unavailable. */
  message: string;
  onnxVersion?: string;
}

const SCRIPT = `
import json, sys
try:
    import onnx
except Exception as error:
    print(json.dumps({"unavailable": str(error)})); sys.exit(0)
for path in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
        print(json.dumps({"path": path, "ok": True, "message": "ok", "version": onnx.__version__}))
    except Exception as error:
        print(json.dumps({"path": path, "ok": False, "message": (type(error).__name__ + ": " + str(error)).strip(), "version": onnx.__version__}))
`;

export function checkOnnxFiles(paths: string[]): CheckerResult[] {
  const run = spawnSync(PYTHON, ['-c', SCRIPT, ...paths], { encoding: 'utf8', timeout: 300_000 });
  const unavailable = (message: string) => paths.map((path) => ({ path, available: false, ok: false, message }));
  if (run.error) return unavailable(`${PYTHON}: ${run.error.message}`);
  const lines = run.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  const first = lines[0];
  if (!first || 'unavailable' in first) return unavailable(String(first?.['unavailable'] ?? run.stderr.trim()));
  return paths.map((path) => {
    const line = lines.find((entry) => entry['path'] === path);
    if (!line) return { path, available: true, ok: false, message: `no checker result (${run.stderr.trim().split('\n').pop() ?? ''})` };
    return { path, available: true, ok: line['ok'] === true, message: String(line['message']), onnxVersion: String(line['version']) };
  });
}

export function checkOnnxFile(path: string): CheckerResult {
  return checkOnnxFiles([path])[0]!;
}
