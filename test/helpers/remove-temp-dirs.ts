// Vitest setup (vitest.config.ts setupFiles): the folders of test/helpers/temp-dir.ts are removed
// when each test file ends.
import { afterAll } from 'vitest';
import { removeTempDirs } from './temp-dir.ts';

afterAll(removeTempDirs);
