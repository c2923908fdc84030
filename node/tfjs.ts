/**
 * TensorFlow.js for the Node parts (training, conversion, evaluation of tfjs folders), loaded on
 * demand. Its CPU backend prints, on first use in Node, a banner that recommends installing
 * @tensorflow/tfjs-node; emseg reports its own backend choice (train/backend.ts: which backends were
 * tried and why), and that package cannot be installed offline, so the banner is turned off here:
 * the CPU backend is told that its first use has happened. Nothing else changes.
 */
import type * as tfType from '@tensorflow/tfjs';

/** `import('@tensorflow/tfjs')`, with the CPU backend's install banner off. */
export async function importTfjs(): Promise<typeof tfType> {
  const tf = await import('@tensorflow/tfjs');
  silenceCpuBanner(tf);
  return tf;
}

/**
 * Marks the CPU backend as used (tfjs-backend-cpu's `firstUse`, which only gates that banner): the
 * instance's own flag, and its class's, so that a CPU backend made later (after a reset) is quiet too.
 */
export function silenceCpuBanner(tf: typeof tfType): void {
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (!cpu || !('firstUse' in cpu)) return;
  cpu.firstUse = false;
  const prototype = Object.getPrototypeOf(cpu) as object;
  if (!Object.getOwnPropertyDescriptor(prototype, 'firstUse')) {
    // An accessor on the class: the constructor's `this.firstUse = true` is ignored, reads say false.
    Object.defineProperty(prototype, 'firstUse', { get: () => false, set: () => {}, configurable: true });
  }
}
