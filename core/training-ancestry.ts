/**
 * The runs a model's training continued (emseg train --init, each from the export of the one
 * before), read from its model card: `training.parent`, each with the parent's own training (and
 * parent) nested, as convert/training-info.ts records them. Platform-neutral; for the evaluation
 * report and the bioimage.io package's README.
 */
import type { TrainingAncestor, TrainingSummary } from './evaluation-report.ts';
import type { ModelCard } from './model-card.ts';

/** Deepest chain of parents read (convert/training-info.ts records no deeper one). */
const MAX_ANCESTRY = 16;

/**
 * The runs a model's training continued, from its card: `training.parent`, each with the parent's
 * own training (and parent) nested, as convert/training-info.ts records them; the earliest first.
 * Empty when the card names no parent.
 */
export function ancestryFromCard(training: ModelCard['training']): Pick<TrainingSummary, 'ancestors' | 'cropsSeenWithAncestors'> {
  const ancestors: TrainingAncestor[] = [];
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  let parent: unknown = training?.parent;
  while (parent !== null && typeof parent === 'object' && ancestors.length < MAX_ANCESTRY) {
    const p = parent as Record<string, unknown>;
    const own = (p['training'] ?? {}) as Record<string, unknown>;
    const ancestor: TrainingAncestor = { name: text(p['name']) ?? '?', sha256: text(p['sha256']) ?? '' };
    const path = text(p['path']);
    if (path) ancestor.path = path;
    const command = text(own['command']);
    if (command) ancestor.command = command;
    for (const key of ['steps', 'cropsSeen', 'wallTimeSeconds'] as const) {
      const value = num(own[key]);
      if (value !== undefined) ancestor[key] = value;
    }
    ancestors.unshift(ancestor);
    parent = own['parent'];
  }
  const total = num(training?.['cropsSeenWithAncestors']);
  return { ...(ancestors.length > 0 ? { ancestors } : {}), ...(total !== undefined ? { cropsSeenWithAncestors: total } : {}) };
}
