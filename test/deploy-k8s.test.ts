/**
 * deploy/k8s/: every manifest parses, and what must agree with the server does, read from the
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
const manifests: Manifest[] = readdirSync(DIR)
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      return doc.toJS() as Manifest;
    }),
  );
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
