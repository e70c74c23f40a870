import { createLogger } from '../../src/logger';
import { startRuntime } from '../../src/runtime';
import { spawnService } from '../helpers/service-process';
import { eventually, fakeUpstreamEnv, startStack, type Stack } from '../helpers/stack';
import { get } from '../helpers/http';

/** The env a separate worker process needs to join a stack (same Redis, prefix and fakes). */
function workerEnv(stack: Stack, extra: Record<string, string> = {}): Record<string, string> {
  return { ...fakeUpstreamEnv(stack, stack.config.redis.keyPrefix), LOG_LEVEL: 'info', ...extra };
}

describe('GetAvatar rate limit across worker processes', () => {
  it('200 cold ids at GREEN_API_RATE_PER_SEC=20 with two workers: no 1-second window holds more than 20 calls', async () => {
    const env = { GREEN_API_RATE_PER_SEC: '20', MISS_WAIT_MS: '0', MISS_RATE_PER_MIN: '0', WORKER_CONCURRENCY: '8' };
    const stack = await startStack({ env });
    const second = await startRuntime(stack.config, 'worker', createLogger('silent'));
    try {
      stack.green.setFallback({ kind: 'not-on-whatsapp' });
      const ids = Array.from({ length: 200 }, (_, i) => `1100300${String(i).padStart(4, '0')}`);
      // The stack's own process resolves up to 32 of them in place (4 x WORKER_CONCURRENCY); the rest go through
      // jobs on both workers: the limit holds across all of them.
      const responses = await Promise.all(ids.map((id) => get(stack.url, `/avatar/${id}.webp`)));
      expect(responses.every((r) => r.status === 200)).toBe(true);
      // 200 calls at 20/s take 12-13 s alone; the full suite's parallel load has stretched that past 20 s.
      await eventually(() => stack.green.calls.length >= 200, 35_000, 100);
      const times = stack.green.calls.map((c) => c.at).sort((a, b) => a - b);
      const busiest = Math.max(...times.map((t, i) => times.filter((u, j) => j >= i && u < t + 1000).length));
      expect(busiest).toBeLessThanOrEqual(20);
      expect(stack.green.calls).toHaveLength(200);
    } finally {
      await second.close();
      await stack.close();
    }
  }, 60_000);
});

describe('a worker killed mid-job', () => {
  it('leaves its job to be taken up again (stalled-job recovery) and completed: nothing lost', async () => {
    const stack = await startStack({ role: 'api', env: { MISS_WAIT_MS: '0' } });
    const env = workerEnv(stack, { JOB_LOCK_MS: '1000' });
    const doomed = spawnService(env, ['--role', 'worker']);
    let rescuer: ReturnType<typeof spawnService> | undefined;
    try {
      await doomed.ready();
      stack.green.set('11000002001@c.us', { kind: 'avatar', url: await stack.images.add('survivor') }, 1500);
      const first = await get(stack.url, '/avatar/11000002001.webp');
      expect(first.headers['x-avatar-status']).toBe('pending');
      await eventually(() => stack.green.callsFor('11000002001@c.us') === 1);
      doomed.child.kill('SIGKILL');
      await doomed.exited;

      rescuer = spawnService(env, ['--role', 'worker']);
      await rescuer.ready();
      await eventually(async () => (await get(stack.url, '/avatar/11000002001.webp')).headers['x-avatar-status'] === 'ok', 15_000, 200);
      expect(stack.green.callsFor('11000002001@c.us')).toBe(2);
    } finally {
      doomed.child.kill('SIGKILL');
      rescuer?.child.kill('SIGTERM');
      await rescuer?.exited;
      await stack.close();
    }
  }, 40_000);
});

describe('a queue backlog', () => {
  it('past MAX_QUEUE_BACKLOG, new misses get the pending placeholder at once and enqueue nothing; hits are unaffected', async () => {
    const stack = await startStack({ role: 'api', env: { MAX_QUEUE_BACKLOG: '3', MISS_WAIT_MS: '50', MISS_RATE_PER_MIN: '0' } });
    try {
      for (const id of ['11000002101', '11000002102', '11000002103', '11000002104', '11000002105', '11000002106']) {
        const res = await get(stack.url, `/avatar/${id}.webp`);
        expect(res.headers['x-avatar-status']).toBe('pending');
        expect(res.headers['cache-control']).toBe('no-store');
      }
      const queued = await stack.redis.zcard(`${stack.config.redis.keyPrefix}:resolve:prioritized`);
      expect(queued).toBe(3);
      expect((await get(stack.url, '/healthz')).status).toBe(200);
    } finally {
      await stack.close();
    }
  });
});
