// Vitest setup (vitest.config.ts setupFiles): tests import TensorFlow.js directly, so its CPU
// backend's install banner is turned off here as node/tfjs.ts does for the product.
import * as tf from '@tensorflow/tfjs';
import { silenceCpuBanner } from '../../node/tfjs.ts';

silenceCpuBanner(tf);
