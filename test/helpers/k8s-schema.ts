/**
 * Validates Kubernetes manifests against the API's own OpenAPI schemas (the `kubernetes-models`
 * package: one generated validator per kind): types, required fields, enums, formats. It does not
 * reject unknown fields (the schemas allow them), so tests still read the fields they rely on.
 * Returns one line per manifest that fails, naming the file, the kind and the schema's message.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: any) => Validatable;

/** The kinds deploy/k8s/ uses, by `apiVersion kind`; another kind is reported, not skipped. */
const MODELS: Record<string, ModelClass> = {
  'apps/v1 Deployment': Deployment,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1 Job': Job,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'v1 Service': Service,
};

export function schemaErrors(manifest: { apiVersion?: string; kind?: string }, where: string): string[] {
  const key = `${manifest.apiVersion} ${manifest.kind}`;
  const Model = MODELS[key];
  if (!Model) return [`${where}: ${key}: no schema known to test/helpers/k8s-schema.ts (expected one of ${Object.keys(MODELS).join(', ')})`];
  try {
    new Model(manifest).validate();
    return [];
  } catch (error) {
    return [`${where}: ${key}: ${(error as Error).message}`];
  }
}
