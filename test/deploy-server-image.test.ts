/**
 * The server image without a Docker engine: the Dockerfile's instructions checked against the
 * repository and the server's settings; its production install (deploy/server-install.sh) run in a
 * clean folder with the same flags (offline, from the npm cache) and measured; and the image's
 * entrypoint and HEALTHCHECK run on that install, laid out as the runtime stage copies it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, matchesGlob } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVE_CONFIG, SERVE_SETTINGS } from '../serve/config.ts';
import { GLIBC_MEMORY_RETURN_ENV } from '../serve/memory-return.ts';
import { DEFAULT_SAMPLES } from '../web-demo/build.ts';
import { REPO, runIn, withBuiltDist } from './helpers/offline-install.ts';

interface Instruction {
  stage: string;
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions, continuation lines joined, comments dropped, with their stage. */
function dockerfile(): Instruction[] {
  const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  let stage = '';
  const out: Instruction[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (!match || line.trimStart().startsWith('#')) continue;
    const [, keyword, args] = match as unknown as [string, string, string];
    if (keyword === 'FROM') stage = / AS (\S+)/i.exec(args)?.[1] ?? 'runtime';
    out.push({ stage, keyword, args: args.trim() });
  }
  return out;
}

const instructions = dockerfile();
const runtime = instructions.filter((i) => i.stage === 'runtime');
const one = (keyword: string, list = runtime) => list.filter((i) => i.keyword === keyword);

/** Whether .dockerignore keeps `path` out of the build context (last matching pattern wins). */
function dockerignored(path: string): boolean {
  let ignored = false;
  for (const raw of readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    const pattern = negated ? line.slice(1) : line;
    const parts = path.split('/');
    const hits = parts.some((_, n) => matchesGlob(parts.slice(0, n + 1).join('/'), pattern));
    if (hits) ignored = !negated;
  }
  return ignored;
}

describe('Dockerfile', () => {
  it('uses a current even-numbered (LTS) Node major, not Node 20', () => {
    const image = /NODE_IMAGE=node:(\d+)/.exec(one('ARG', instructions).map((i) => i.args).join('\n'));
    const major = Number(image?.[1]);
    expect(major).toBeGreaterThanOrEqual(24);
    expect(major % 2).toBe(0);
  });

  it('copies from the build context only files that exist and that .dockerignore lets through', () => {
    const sources = instructions
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) {
      expect(existsSync(join(REPO, source)), source).toBe(true);
      expect(dockerignored(source), source).toBe(false);
    }
    // `COPY . .` in the build stage: the web-demo build reads its sample slices from data/.
    for (const sample of DEFAULT_SAMPLES) expect(dockerignored(sample.stack), sample.stack).toBe(false);
    expect(dockerignored('node_modules')).toBe(true);
    expect(dockerignored('data/isbi2012/train-labels.tif')).toBe(true);
  });

  it('runs the server as a non-root user, exec-form, on the configured port, with a HEALTHCHECK on /healthz', () => {
    // Numeric, so that Kubernetes' runAsNonRoot can verify it (a name is refused by the kubelet).
    const [uid, gid] = (one('USER')[0]?.args ?? '').split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(gid).toBeGreaterThan(0);
    expect(one('RUN').some((i) => i.args.includes(`--uid ${uid} --gid ${gid}`) && i.args.includes(`--gid ${gid} emseg`))).toBe(true);
    const entrypoint = JSON.parse(one('ENTRYPOINT')[0]!.args) as string[];
    expect(entrypoint).toEqual(['node', '/app/bin/emseg.js']);
    expect(JSON.parse(one('CMD')[0]!.args)).toEqual(['serve']);
    expect(one('EXPOSE')[0]?.args).toBe(String(DEFAULT_SERVE_CONFIG.port));
    const health = one('HEALTHCHECK')[0]!.args;
    expect(health).toMatch(/CMD \["node", "-e", .*\/healthz/);
    const envNames = [...one('ENV')[0]!.args.matchAll(/(\w+)=/g)].map((m) => m[1]);
    const known = new Set(['NODE_ENV', ...Object.keys(GLIBC_MEMORY_RETURN_ENV), ...SERVE_SETTINGS.map((s) => s.env)]);
    expect(envNames.filter((name) => !known.has(name!))).toEqual([]);
    // The image gives memory back as the server expects (serve/memory-return.ts).
    const env = Object.fromEntries([...one('ENV')[0]!.args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
    for (const [name, value] of Object.entries(GLIBC_MEMORY_RETURN_ENV)) expect(env[name], name).toBe(value);
  });

  it('installs the server dependencies with deploy/server-install.sh and verifies the CUDA provider', () => {
    expect(one('RUN', instructions.filter((i) => i.stage === 'deps')).map((i) => i.args)).toEqual(['deploy/server-install.sh']);
    expect(one('RUN', instructions.filter((i) => i.stage === 'cuda-provider'))[0]?.args).toMatch(/fetch-onnxruntime-cuda\.js/);
    // ldd checks that fail closed (test/deploy-check-libraries.test.ts): node and onnxruntime always, the provider with WITH_CUDA=1.
    const check = one('RUN').find((i) => i.args.startsWith('emseg-check-libraries '))?.args ?? '';
    expect(check).toMatch(/^emseg-check-libraries \/usr\/local\/bin\/node \S+onnxruntime_binding\.node \S+sharp-linux-x64-\*\.node && /);
    expect(check).toMatch(/if \[ "\$WITH_CUDA" = 1 \]; then emseg-check-libraries \S+libonnxruntime_providers_cuda\.so \S+libonnxruntime_providers_shared\.so; fi$/);
    expect(one('COPY').some((i) => i.args === 'deploy/check-libraries.sh /usr/local/bin/emseg-check-libraries')).toBe(true);
    // Node 26 links libatomic.so.1, which the CUDA image may lack.
    expect(one('RUN').some((i) => i.args.includes('libatomic1'))).toBe(true);
  });

  it('takes the runtime base, the CUDA switch and the provider checksum as build arguments', () => {
    const args = one('ARG', instructions).map((i) => i.args);
    expect(args).toEqual(expect.arrayContaining([expect.stringMatching(/^RUNTIME_IMAGE=nvidia\/cuda:/), 'WITH_CUDA=1', 'ORT_CUDA_SHA512=']));
    expect(instructions.find((i) => i.keyword === 'FROM' && i.stage === 'runtime')?.args).toBe('${RUNTIME_IMAGE} AS runtime');
  });
});

describe('the server production install, in a clean folder', () => {
  let app = '';
  let installLog = '';

  beforeAll(async () => {
    app = await mkdtemp(join(tmpdir(), 'emseg-image-'));
    for (const file of ['package.json', 'package-lock.json', '.npmrc']) await copyFile(join(REPO, file), join(app, file));
    await mkdir(join(app, 'deploy'));
    await copyFile(join(REPO, 'deploy/server-install.sh'), join(app, 'deploy/server-install.sh'));
    installLog = await runIn(app, 'sh', ['deploy/server-install.sh', '--offline']);
    // The runtime stage's layout: what the build stage compiled, the entry point, the model.
    await withBuiltDist(() => cp(join(REPO, 'dist'), join(app, 'dist'), { recursive: true }));
    await mkdir(join(app, 'bin'));
    await copyFile(join(REPO, 'bin/emseg.js'), join(app, 'bin/emseg.js'));
    await mkdir(join(app, 'models'));
    for (const file of ['isbi2012-unet.onnx', 'isbi2012-unet.json']) await copyFile(join(REPO, 'models', file), join(app, 'models', file));
  }, 240_000);

  afterAll(async () => {
    if (app) await rm(app, { recursive: true, force: true });
  });

  it('holds no training, benchmark, web-build or test packages and no libtensorflow', () => {
    for (const name of ['@tensorflow', 'onnxruntime-web', 'esbuild', '@esbuild', 'tsx', 'vite', 'vitest', 'autocannon', 'typescript', 'playwright-core']) {
      expect(existsSync(join(app, 'node_modules', name)), name).toBe(false);
    }
    const files = readdirSync(join(app, 'node_modules'), { recursive: true }).map(String);
    expect(files.filter((file) => /libtensorflow|onnxruntime-web|esbuild/.test(file))).toEqual([]);
  });

  it('keeps onnxruntime-node binaries for this platform only and reports the size', () => {
    const bin = join(app, 'node_modules/onnxruntime-node/bin/napi-v6');
    const kept = readdirSync(bin).flatMap((os) => readdirSync(join(bin, os)).map((arch) => `${os}/${arch}`));
    expect(kept).toEqual([`${process.platform}/${process.arch}`]);
    const megabytes = Number(/node_modules holds (\d+) MB/.exec(installLog)?.[1]);
    expect(megabytes).toBeGreaterThan(20);
    expect(megabytes).toBeLessThan(150);
  });

  describe('the entrypoint', () => {
    let server: ChildProcess;
    let stderr = '';
    let port = 0;

    beforeAll(async () => {
      const [command, ...args] = [...(JSON.parse(one('ENTRYPOINT')[0]!.args) as string[]), ...(JSON.parse(one('CMD')[0]!.args) as string[])];
      const env = Object.fromEntries([...one('ENV')[0]!.args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
      server = spawn(command === 'node' ? process.execPath : command!, args.map((arg) => arg.replace(/^\/app\//, `${app}/`)), {
        cwd: app,
        env: { PATH: process.env.PATH, ...env, HOST: '127.0.0.1', PORT: '0' },
      });
      server.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const deadline = Date.now() + 60_000;
      while (!port && Date.now() < deadline) {
        port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1] ?? 0);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      while (Date.now() < deadline && (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status !== 200) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }, 90_000);

    afterAll(() => {
      if (server.exitCode === null) server.kill('SIGKILL');
    });

    it('starts emseg serve from the compiled code, ready on the CPU when there is no GPU', async () => {
      expect(port, stderr).toBeGreaterThan(0);
      const ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { status: string; provider: string };
      expect(ready).toMatchObject({ status: 'ready', provider: 'cpu' });
    });

    it('passes its own HEALTHCHECK command', async () => {
      const script = (JSON.parse(/CMD (\[.*\])$/.exec(one('HEALTHCHECK')[0]!.args)![1]!) as string[])[2]!;
      await runIn(app, process.execPath, ['-e', script], { PORT: String(port) });
      await expect(runIn(app, process.execPath, ['-e', script], { PORT: '1' })).rejects.toThrow();
    });

    it('stops with exit code 0 on STOPSIGNAL', async () => {
      const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
      server.kill(one('STOPSIGNAL')[0]!.args as NodeJS.Signals);
      expect(await exited).toBe(0);
    });
  });
});
