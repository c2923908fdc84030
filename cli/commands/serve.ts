/**
 * `emseg serve`: a thin shell over startServer (serve/server.ts). Its flags are generated from the
 * settings table (serve/config.ts), each mirroring an environment variable; a flag wins over the
 * variable. Runs until SIGTERM or SIGINT, then shuts down gracefully.
 */
import { defineCommand } from 'citty';
import { EmsegError, isEmsegError } from '../../core/errors.ts';
import { SERVE_SETTINGS, resolveServeConfig, type ServeConfig } from '../../serve/config.ts';
import { chooseModel, describeModelChoice } from '../../node/shipped-model.ts';

export const serveArgs = Object.fromEntries(
  SERVE_SETTINGS.map((setting) => [
    setting.flag,
    { type: 'string' as const, description: `${setting.description} (env ${setting.env}; default ${setting.default})` },
  ]),
);

const command = defineCommand({
  meta: {
    name: 'serve',
    description: 'Serve the segmentation API (POST /v1/segment), metrics, OpenAPI and the web demo over HTTP.',
  },
  args: serveArgs,
  async run({ args }) {
    const raw = args as Record<string, unknown>;
    const flags: Partial<Record<keyof ServeConfig, string>> = {};
    for (const setting of SERVE_SETTINGS) {
      const value = raw[setting.flag];
      if (value !== undefined && value !== true && value !== false) flags[setting.key] = String(value);
    }
    const resolved = resolveServeConfig(process.env, flags);
    // No model set: models/isbi2012-unet.onnx of the current folder, else the package's own.
    const modelSet = flags.model !== undefined || (process.env.EMSEG_MODEL ?? '') !== '';
    const choice = chooseModel(modelSet ? resolved.model : undefined);
    // The log's `listening` line names the file; outside a checkout, also say where it comes from.
    if (choice.source === 'package') process.stderr.write(`no --model or EMSEG_MODEL set; model ${describeModelChoice(choice)}\n`);
    const config: ServeConfig = { ...resolved, model: choice.path };
    const { startServer } = await import('../../serve/server.ts');
    const server = await startServer(config, { handleSignals: true, measureModelSpeed: true });
    // A model that cannot be loaded stops the server: the orchestrator sees exit code 1.
    let loadError: unknown;
    server.emseg.ready.catch((error: unknown) => {
      loadError = error;
      void server.shutdown('model failed to load');
    });
    await server.closed;
    if (loadError !== undefined) {
      throw isEmsegError(loadError) ? loadError : new EmsegError('E_MODEL', `${config.model}: the model could not be loaded; see the log above`);
    }
    if (server.crashed) throw new EmsegError('E_BACKEND', 'the inference worker stopped; see the log above');
    if (server.dropped > 0) {
      throw new EmsegError('E_INTERRUPTED', `the shutdown grace ran out with ${server.dropped} request(s) in flight; they were cut off`);
    }
  },
});
// Named first: tsc 5.9 does not rewrite `.ts` dynamic imports inside `export default <expression>`.
export default command;
