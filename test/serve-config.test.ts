/**
 * Server configuration: flags over environment over defaults, every value checked, and the
 * README's table naming every variable and flag of the settings table (so the two cannot drift).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderUsage } from 'citty';
import serveCommand from '../cli/commands/serve.ts';
import { DEFAULT_SERVE_CONFIG, SERVE_SETTINGS, resolveServeConfig } from '../serve/config.ts';

describe('resolveServeConfig', () => {
  it('takes flags over environment variables over defaults', () => {
    const config = resolveServeConfig({ PORT: '9000', EMSEG_QUEUE_SIZE: '3', EMSEG_EP: 'cpu' }, { queueSize: '5' });
    expect(config.port).toBe(9000);
    expect(config.queueSize).toBe(5);
    expect(config.providers).toBe('cpu');
    expect(config.model).toBe(DEFAULT_SERVE_CONFIG.model);
    expect(config.timeoutMs).toBe(120_000);
  });

  it('names the variable or flag of a bad value', () => {
    expect(() => resolveServeConfig({ PORT: 'eighty' })).toThrow(/PORT: expected an integer from 0 to 65535, found "eighty"/);
    // An empty flag is a mistake (it used to fall back to the variable or the default); an empty variable is unset.
    expect(() => resolveServeConfig({}, { port: '' })).toThrow(/--port: expected an integer from 0 to 65535, found ""/);
    expect(resolveServeConfig({ PORT: '' }).port).toBe(8787);
    expect(() => resolveServeConfig({}, { maxPixels: '-1' })).toThrow(/--max-pixels: expected an integer >= 1/);
    expect(() => resolveServeConfig({ EMSEG_BATCH_SIZE: '2.5' })).toThrow(/EMSEG_BATCH_SIZE/);
  });
});

describe('the settings table', () => {
  it('is mirrored by the emseg serve flags and documented in serve/README.md', async () => {
    const usage = await renderUsage(serveCommand);
    const readme = readFileSync(new URL('../serve/README.md', import.meta.url), 'utf8');
    for (const setting of SERVE_SETTINGS) {
      expect(usage).toContain(`--${setting.flag}`);
      expect(readme).toContain(`\`${setting.env}\``);
      expect(readme).toContain(`\`--${setting.flag}\``);
    }
  });
});
