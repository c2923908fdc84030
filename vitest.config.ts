import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The slowest tests (tiny trainings, the shipped model over a folder) take 15-90 s on 2 idle cores
    // and several times that when the machine is shared; a hung test still fails.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // TensorFlow.js's CPU backend banner off in every test file (node/tfjs.ts).
    // Folders made with test/helpers/temp-dir.ts removed after each file.
    setupFiles: ['test/helpers/quiet-tfjs.ts', 'test/helpers/remove-temp-dirs.ts'],
    pool: 'forks',
    maxWorkers: 2,
  },
});
