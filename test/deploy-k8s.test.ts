/**
 * deploy/k8s/: every manifest parses and passes the Kubernetes API schemas (test/helpers/k8s-schema.ts)
 * and the "restricted" Pod Security level with numeric IDs (test/helpers/pod-security.ts), all
 * use the one image name and the image's numeric user, and what must agree with the server does, read from the
 * server itself: the port and variable names from serve/config.ts (values validated by its own
 * resolver), the probe paths and the autoscaling metrics answered by the app (serve/app.ts), the
 * drain time from the shutdown grace the Deployment configures.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createApp } from '../serve/app.ts';
import { DEFAULT_SERVE_CONFIG, SERVE_SETTINGS, resolveServeConfig } from '../serve/config.ts';
import { captureLog, fakeModel } from './serve-fixtures.ts';
import { schemaErrors } from './helpers/k8s-schema.ts';
import { podSpecOf, restrictedViolations } from './helpers/pod-security.ts';

// Kubernetes shapes, as far as the checks read them.
interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  ports: { name: string; containerPort: number }[];
  env: { name: string; value: string }[];
  resources: { requests?: Record<string, string | number>; limits: Record<string, string | number> };
  livenessProbe: Probe;
  readinessProbe: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: any;
}

const DIR = new URL('../deploy/k8s/', import.meta.url).pathname;
const files = readdirSync(DIR).filter((file) => file.endsWith('.yaml'));
const documents: { file: string; manifest: Manifest }[] = files.flatMap((file) =>
  parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    return { file, manifest: doc.toJS() as Manifest };
  }),
);
const manifests = documents.map((d) => d.manifest);
/** The image's user, `USER <uid>:<gid>` in the Dockerfile's runtime stage. */
const imageUser = /^USER (\d+):(\d+)$/m.exec(readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8'));
const byKind = (kind: string) => {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
};
const deployment = byKind('Deployment');
const podSpec = deployment.spec.template.spec as { terminationGracePeriodSeconds: number; containers: Container[] };
const container = podSpec.containers[0]!;
const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;
const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
const config = resolveServeConfig(env);

describe('deploy/k8s against the Kubernetes API and the restricted Pod Security level', () => {
  it('every manifest passes the API schema of its kind', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
    expect(documents.flatMap(({ file, manifest }) => schemaErrors(manifest, file))).toEqual([]);
  });

  it('every pod is admitted under "restricted", as the numeric user and group of the image, with fsGroup', () => {
    expect(imageUser, 'Dockerfile: USER <uid>:<gid>').not.toBeNull();
    const [uid, gid] = [Number(imageUser![1]), Number(imageUser![2])];
    const pods = documents.flatMap(({ file, manifest }) => {
      const pod = podSpecOf(manifest);
      return pod ? [{ where: `${file} ${manifest.kind}`, pod }] : [];
    });
    expect(pods.map((p) => p.where).sort()).toEqual(['deployment.yaml Deployment', 'predict-job.yaml Job']);
    for (const { where, pod } of pods) {
      expect(restrictedViolations(pod, where, { numericUser: true })).toEqual([]);
      expect(pod.securityContext, where).toMatchObject({ runAsUser: uid, runAsGroup: gid, fsGroup: gid });
      // GPU nodes are commonly tainted; every pod that asks for a GPU tolerates it.
      expect(pod.tolerations, where).toContainEqual({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' });
    }
  });

  it('names one image everywhere: the manifests, the Dockerfile and deploy/README.md', () => {
    const images = documents.flatMap(({ manifest }) => (podSpecOf(manifest)?.containers ?? []).map((c: { image: string }) => c.image));
    expect(new Set(images).size).toBe(1);
    const name = /\/([^/:]+):[^:]+$/.exec(images[0]!)![1]!;
    expect(name).toBe('emseg-serve');
    for (const doc of ['Dockerfile', 'deploy/README.md']) {
      const text = readFileSync(new URL(`../${doc}`, import.meta.url), 'utf8');
      const tags = [...text.matchAll(/(?:build|podman build|buildah bud)[^\n]*?-t (\S+)/g)].map((m) => m[1]!.replace(/:.*$/, ''));
      expect(tags.length, doc).toBeGreaterThan(0);
      expect(new Set(tags), doc).toEqual(new Set([name]));
    }
  });

  it('the checks catch what the kubelet and the admission controller refuse', () => {
    // As the Deployment was: runAsNonRoot with a named image user and no runAsUser (CreateContainerConfigError).
    const named = { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, containers: [{ name: 'c', image: 'i', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }] };
    expect(restrictedViolations(named)).toEqual([]);
    expect(restrictedViolations(named, 'pod', { numericUser: true })).toEqual([
      'pod.containers[0].securityContext.runAsUser (or the pod\'s): expected a numeric ID > 0, found undefined',
      'pod.containers[0].securityContext.runAsGroup (or the pod\'s): expected a numeric ID > 0, found undefined',
      'pod.securityContext.fsGroup: expected a numeric GID > 0, found undefined',
    ]);
    // As the Job was: no securityContext at all.
    expect(restrictedViolations({ containers: [{ name: 'c', image: 'i' }] }, 'job')).toEqual([
      'job.containers[0].securityContext.allowPrivilegeEscalation: expected false, found undefined',
      'job.containers[0].securityContext.capabilities.drop: expected ["ALL"], found []',
      'job.containers[0].securityContext.seccompProfile.type (or the pod\'s): expected RuntimeDefault or Localhost, found undefined',
      'job.containers[0].securityContext.runAsNonRoot (or the pod\'s): expected true, found undefined',
    ]);
    const hostile = { hostNetwork: true, volumes: [{ name: 'h', hostPath: { path: '/' } }], securityContext: { runAsUser: 0 }, containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 1, hostPort: 80 }], securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } } }] };
    const found = restrictedViolations(hostile, 'p').join('\n');
    for (const field of ['p.hostNetwork', 'p.volumes[0]', 'privileged', 'hostPort', 'capabilities.add', 'runAsUser']) expect(found).toContain(field);
    // The schema check: a UID given as a name is refused, as kubectl would.
    const deploymentWithName = structuredClone(deployment) as Manifest;
    deploymentWithName.spec.template.spec.securityContext.runAsUser = 'emseg';
    expect(schemaErrors(deploymentWithName, 'x').join('')).toMatch(/runAsUser must be integer/);
  });
});

describe('deploy/k8s', () => {
  it('holds a Deployment, Service, HorizontalPodAutoscaler and PodDisruptionBudget of stable API versions', () => {
    expect(manifests.map((m) => `${m.apiVersion} ${m.kind}`)).toEqual(
      expect.arrayContaining(['apps/v1 Deployment', 'v1 Service', 'autoscaling/v2 HorizontalPodAutoscaler', 'policy/v1 PodDisruptionBudget']),
    );
  });

  it('sets only variables the server reads, with values its configuration accepts', () => {
    const known = new Set(SERVE_SETTINGS.map((setting) => setting.env));
    expect(Object.keys(env).filter((name) => !known.has(name))).toEqual([]);
    expect(config.host).toBe('0.0.0.0');
  });

  it('exposes the port the server listens on, to the Service and to Prometheus', () => {
    const http = container.ports.find((port) => port.name === 'http')!;
    expect(http.containerPort).toBe(config.port);
    expect(config.port).toBe(env.PORT === undefined ? DEFAULT_SERVE_CONFIG.port : Number(env.PORT));
    const service = byKind('Service');
    expect(service.spec.ports[0].targetPort).toBe('http');
    expect(service.spec.selector).toEqual(podLabels);
    expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(config.port));
    expect(deployment.spec.template.metadata.annotations['prometheus.io/path']).toBe('/metrics');
  });

  it('probes liveness on /healthz and readiness on /readyz, which the app answers', async () => {
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    const { app, ready } = createApp({ model: fakeModel(), log: captureLog(), processMetrics: false });
    await ready;
    expect((await app.request('/healthz')).status).toBe(200);
    expect((await app.request('/readyz')).status).toBe(200);
    const pending = createApp({ model: new Promise(() => {}), log: captureLog(), processMetrics: false });
    expect((await pending.app.request('/healthz')).status).toBe(200);
    expect((await pending.app.request('/readyz')).status).toBe(503);
  });

  it('gives a stopping pod the preStop delay plus the server drain before it is killed', () => {
    const command = container.lifecycle?.preStop?.exec?.command ?? [];
    expect(command[0]).toBe('sleep');
    const preStopSeconds = Number(command[1]);
    expect(preStopSeconds).toBeGreaterThan(0);
    // 5 s beyond the drain: the server then closes connections (at most 2 s) and the ONNX session.
    expect(podSpec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStopSeconds + config.shutdownGraceMs / 1000 + 5);
  });

  it('asks for one GPU per pod, and the CUDA provider only', () => {
    expect(Number(container.resources.limits['nvidia.com/gpu'])).toBe(1);
    expect(config.providers).toBe('cuda');
  });

  it('autoscales the Deployment on per-pod gauges that the server exports at /metrics', async () => {
    const hpa = byKind('HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const names = (hpa.spec.metrics as { type: string; pods: { metric: { name: string } } }[]).map((metric) => {
      expect(metric.type).toBe('Pods');
      return metric.pods.metric.name;
    });
    expect(names.length).toBeGreaterThan(0);
    const { app, ready } = createApp({ model: fakeModel(), log: captureLog(), processMetrics: false });
    await ready;
    const exposition = await (await app.request('/metrics')).text();
    for (const name of names) expect(exposition).toContain(`# TYPE ${name} gauge`);
  });

  it('keeps a server up through voluntary disruptions, as long as the autoscaler keeps two', () => {
    const pdb = byKind('PodDisruptionBudget');
    expect(pdb.spec.selector.matchLabels).toEqual(podLabels);
    expect(pdb.spec.minAvailable).toBeLessThan(byKind('HorizontalPodAutoscaler').spec.minReplicas);
    expect(deployment.spec.selector.matchLabels).toEqual(podLabels);
  });
});
