// Entry of a training worker thread: registers tsx (TypeScript) in this thread, then loads the
// worker itself. Plain JavaScript so that it starts the same under tsx, vitest and the CLI.
import { register } from 'tsx/esm/api';

register();
await import('./gradient-worker.ts');
