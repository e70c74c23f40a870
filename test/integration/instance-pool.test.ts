import { FakeGreenApi } from '../fakes/green-api';
import { spawnService } from '../helpers/service-process';
import { eventually, fakeUpstreamEnv, startFakes, startStack } from '../helpers/stack';
import { get, readyz } from '../helpers/http';

/** /readyz's details are the admin's on the public port. */
const READYZ_ADMIN = 'admin-token-0123456789abcdef';

const poolOf = (...fakes: FakeGreenApi[]) => fakes.map((f) => `${f.idInstance}:${f.apiToken}@${f.url}`).join(',');

/** The most calls that fall into any one second. */
function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return Math.max(0, ...sorted.map((t, i) => sorted.slice(i).filter((u) => u < t + 1000).length));
}

describe('a pool of Green API instances (GREEN_API_INSTANCES)', () => {
  let first: FakeGreenApi;
  let second: FakeGreenApi;

  beforeEach(async () => {
    first = new FakeGreenApi({ idInstance: '1101000001', apiToken: 'first-token-0123456789' });
    second = new FakeGreenApi({ idInstance: '1101000002', apiToken: 'second-token-0123456789' });
    await Promise.all([first.start(), second.start()]);
  });
  afterEach(() => Promise.all([first.close(), second.close()]));

  it('spreads calls over the instances, each within its own rate limit', async () => {
    // The service in a process of its own, as deployed: the fakes then note each call when it arrives, not
    // when an event loop they share with the service (and Jest) gets round to it.
    const fakes = await startFakes();
    const service = spawnService({ ...fakeUpstreamEnv(fakes, fakes.prefix), GREEN_API_INSTANCES: poolOf(first, second), GREEN_API_RATE_PER_SEC: '5', MISS_RATE_PER_MIN: '0', MISS_WAIT_MS: '0' });
    try {
      const url = await service.ready();
      first.setFallback({ kind: 'not-on-whatsapp' });
      second.setFallback({ kind: 'not-on-whatsapp' });
      const ids = Array.from({ length: 24 }, (_, i) => String(11008100000 + i));
      await Promise.all(ids.map((id) => get(url, `/avatar/${id}.webp`)));
      await eventually(() => first.calls.length + second.calls.length === 24, 15_000, 100);
      expect(first.calls.length).toBeGreaterThan(6);
      expect(second.calls.length).toBeGreaterThan(6);
      expect(busiestSecond(first.calls.map((c) => c.at))).toBeLessThanOrEqual(5);
      expect(busiestSecond(second.calls.map((c) => c.at))).toBeLessThanOrEqual(5);
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
      await fakes.close();
    }
  }, 30_000);

  it('keeps serving when one instance answers 466: its calls stop, the other takes them all', async () => {
    const stack = await startStack({ env: { GREEN_API_INSTANCES: poolOf(first, second), MISS_RATE_PER_MIN: '0', ADMIN_TOKEN: READYZ_ADMIN } });
    try {
      expect((await readyz(stack.url, READYZ_ADMIN)).body.instances).toEqual({ '1101000001': 'ok', '1101000002': 'ok' });
      first.setFallback({ kind: 'http', status: 466, body: { invokeStatus: { status: 'QUOTE_ALLOWED_EXCEEDED' } } });
      second.setFallback({ kind: 'not-on-whatsapp' });
      const statuses: string[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await get(stack.url, `/avatar/${11008000000 + i}.webp`)).headers['x-avatar-status']!);
      // Round robin starts with the first instance: only that request met the 466; the second answered the rest.
      expect(first.calls).toHaveLength(1);
      expect(statuses[0]).toBe('error');
      expect(statuses.slice(1)).toEqual(Array(19).fill('not-on-whatsapp'));
      const ready = await readyz(stack.url, READYZ_ADMIN);
      expect(ready.status).toBe(200);
      expect(ready.body.upstream).toBe('ok');
      expect(ready.body.instances).toEqual({ '1101000001': 'quota', '1101000002': 'ok' });
    } finally {
      await stack.close();
    }
  });
});
