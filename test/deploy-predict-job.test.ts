/**
 * deploy/k8s/predict-job.yaml, parsed with the `yaml` package, agrees with the `emseg predict`
 * CLI: an Indexed Job whose N (completions, parallelism) is the N of `--shard`, the shard index
 * taken from JOB_COMPLETION_INDEX, args that the command's own definition parses (no unknown
 * flag), an OME-Zarr output on the shared volume, a GPU per pod.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs, type ArgsDef } from 'citty';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseShard } from '../core/chunk-plan.ts';
import predict from '../cli/commands/predict.ts';

interface Container {
  command?: string[];
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  resources: { limits: Record<string, string | number> };
  volumeMounts: { name: string; mountPath: string }[];
}

const documents = parseAllDocuments(readFileSync('deploy/k8s/predict-job.yaml', 'utf8'));
const jobs = documents.map((d) => d.toJS() as Record<string, any>).filter((d) => d?.kind === 'Job');

describe('deploy/k8s/predict-job.yaml', () => {
  it('parses as one Indexed Job whose completions and parallelism are the N of --shard', () => {
    expect(documents.every((d) => d.errors.length === 0)).toBe(true);
    expect(jobs).toHaveLength(1);
    const job = jobs[0]!;
    expect(job.apiVersion).toBe('batch/v1');
    expect(job.spec.completionMode).toBe('Indexed');
    const container = job.spec.template.spec.containers[0] as Container;
    const shardArg = container.args[container.args.indexOf('--shard') + 1]!;
    expect(shardArg, 'the Job needs --shard').toBeDefined();
    expect(shardArg).toMatch(/^\$\(JOB_COMPLETION_INDEX\)\/\d+$/);
    const n = Number(shardArg.split('/')[1]);
    expect(job.spec.completions).toBe(n);
    expect(job.spec.parallelism).toBeLessThanOrEqual(n);
    expect(['OnFailure', 'Never']).toContain(job.spec.template.spec.restartPolicy);
  });

  it('takes the shard index from the completion index, and every pod gets a valid, distinct --shard', async () => {
    const job = jobs[0]!;
    const container = job.spec.template.spec.containers[0] as Container;
    const env = container.env.find((e) => e.name === 'JOB_COMPLETION_INDEX');
    expect(env?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.annotations['batch.kubernetes.io/job-completion-index']");
    // The container runs `emseg predict` through the image's ENTRYPOINT (node /app/bin/emseg.js).
    expect(container.command).toBeUndefined();
    expect(readFileSync('Dockerfile', 'utf8')).toContain('ENTRYPOINT ["node", "/app/bin/emseg.js"]');
    expect(existsSync('bin/emseg.js')).toBe(true);
    expect(container.args[0]).toBe('predict');
    const args = container.args.slice(1);
    // No --quiet: deploy/README.md promises a progress line a minute per pod in `kubectl logs`.
    expect(args).not.toContain('--quiet');
    const definition = (typeof predict.args === 'function' ? await predict.args() : predict.args) as ArgsDef;
    const known = new Set(Object.entries(definition).flatMap(([name, arg]) => [`--${name}`, ...('alias' in arg && arg.alias ? [`-${arg.alias}`] : [])]));
    for (const token of args) if (token.startsWith('-')) expect(known, token).toContain(token);
    const shards = [];
    for (let index = 0; index < job.spec.completions; index++) {
      // Kubernetes expands $(VAR) in args from the container's env.
      const argv = args.map((a) => a.replaceAll('$(JOB_COMPLETION_INDEX)', String(index)));
      const parsed = parseArgs(argv, definition);
      shards.push(parseShard(String(parsed.shard)));
      expect(String(parsed.out)).toMatch(/\.zarr$/);
      expect(String(parsed.input)).not.toBe(String(parsed.out));
    }
    expect(shards).toEqual(Array.from({ length: job.spec.completions }, (_, index) => ({ index, count: job.spec.completions })));
  });

  it('mounts one shared volume holding the input and the output, and asks for a GPU', () => {
    const pod = jobs[0]!.spec.template.spec;
    const container = pod.containers[0] as Container;
    const mount = container.volumeMounts[0]!;
    expect(pod.volumes.map((v: { name: string }) => v.name)).toContain(mount.name);
    const volume = pod.volumes.find((v: { name: string }) => v.name === mount.name);
    expect(volume.persistentVolumeClaim?.claimName).toBeTruthy();
    const input = container.args[1]!;
    const output = container.args[container.args.indexOf('-o') + 1]!;
    for (const path of [input, output]) expect(path.startsWith(`${mount.mountPath}/`), path).toBe(true);
    expect(Number(container.resources.limits['nvidia.com/gpu'])).toBe(1);
    // CUDA only, as the Deployment: no silent fall-back to the CPU of a GPU node.
    expect(container.env.find((e) => e.name === 'EMSEG_EP')?.value).toBe('cuda');
  });
});
