import { describe, expect, it } from 'vitest';
import { AdmissionQueue } from '../serve/admission.ts';
import { ProblemError } from '../serve/problem.ts';

describe('AdmissionQueue', () => {
  it('runs up to concurrency, queues up to queueSize, refuses the rest with 503 and Retry-After', async () => {
    const queue = new AdmissionQueue({ concurrency: 2, queueSize: 1 });
    const a = await queue.acquire();
    const b = await queue.acquire();
    const waiting = queue.acquire();
    expect(queue.running).toBe(2);
    expect(queue.waiting).toBe(1);
    const refused = await queue.acquire().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ProblemError);
    const problem = refused as ProblemError;
    expect(problem.status).toBe(503);
    expect(problem.code).toBe('E_QUEUE_FULL');
    expect(Number(problem.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    a();
    a(); // a second release changes nothing
    const c = await waiting;
    expect(queue.running).toBe(2);
    expect(queue.waiting).toBe(0);
    b();
    c();
    expect(queue.running).toBe(0);
  });

  it('serves waiters first come, first served, and lets an aborted waiter leave', async () => {
    const queue = new AdmissionQueue({ concurrency: 1, queueSize: 3 });
    const first = await queue.acquire();
    const order: string[] = [];
    const controller = new AbortController();
    const x = queue.acquire().then((release) => (order.push('x'), release));
    const y = queue.acquire(controller.signal).then((release) => (order.push('y'), release));
    const z = queue.acquire().then((release) => (order.push('z'), release));
    controller.abort(new Error('timeout'));
    await expect(y).rejects.toThrow('timeout');
    expect(queue.waiting).toBe(2);
    first();
    (await x)();
    (await z)();
    expect(order).toEqual(['x', 'z']);
  });
});
