/**
 * The runs a model's training continued (emseg train --init, each from the export of the one
 * before), read from its model card: `training.parent`, each with the parent's own training (and
 * parent) nested, as convert/training-info.ts records them. Platform-neutral; for the converter
 * (the card's `cropsSeenWithAncestors`), the evaluation report and the bioimage.io package's README.
 */
import type { TrainingAncestor, TrainingSummary } from './evaluation-report.ts';
import type { ModelCard } from './model-card.ts';

/** Deepest chain of parents followed, here and when convert/training-info.ts nests them (a loop cannot hang). */
export const MAX_ANCESTRY = 16;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * The parents named by a training section, the nearest first: `training.parent`, then its
 * `training.parent`, and so on, at most MAX_ANCESTRY of them; `complete` is false when the chain
 * goes on beyond that.
 */
function parentChain(training: Json | undefined): { parents: Json[]; complete: boolean } {
  const parents: Json[] = [];
  let parent: unknown = training?.['parent'];
  while (isObject(parent)) {
    if (parents.length === MAX_ANCESTRY) return { parents, complete: false };
    parents.push(parent);
    const own = parent['training'];
    parent = isObject(own) ? own['parent'] : undefined;
  }
  return { parents, complete: true };
}

/** Crops seen by a run and every run before it in its chain, when each of them says; else undefined. */
export function cropsSeenWithAncestors(training: Json | undefined): number | undefined {
  const { parents, complete } = parentChain(training);
  let total = num(training?.['cropsSeen']);
  for (const parent of parents) {
    const own = parent['training'];
    const crops = isObject(own) ? num(own['cropsSeen']) : undefined;
    total = total === undefined || crops === undefined ? undefined : total + crops;
  }
  return complete ? total : undefined;
}

/**
 * The runs a model's training continued, from its card: `training.parent`, each with the parent's
 * own training (and parent) nested, as convert/training-info.ts records them; the earliest first.
 * Empty when the card names no parent.
 */
export function ancestryFromCard(training: ModelCard['training']): Pick<TrainingSummary, 'ancestors' | 'cropsSeenWithAncestors'> {
  const ancestors: TrainingAncestor[] = parentChain(training).parents.map((p) => {
    const own = isObject(p['training']) ? p['training'] : {};
    const ancestor: TrainingAncestor = { name: text(p['name']) ?? '?', sha256: text(p['sha256']) ?? '' };
    const path = text(p['path']);
    if (path) ancestor.path = path;
    const command = text(own['command']);
    if (command) ancestor.command = command;
    for (const key of ['steps', 'cropsSeen', 'wallTimeSeconds'] as const) {
      const value = num(own[key]);
      if (value !== undefined) ancestor[key] = value;
    }
    return ancestor;
  });
  ancestors.reverse();
  const total = num(training?.['cropsSeenWithAncestors']);
  return { ...(ancestors.length > 0 ? { ancestors } : {}), ...(total !== undefined ? { cropsSeenWithAncestors: total } : {}) };
}
