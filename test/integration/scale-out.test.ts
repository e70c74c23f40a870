import { get } from '../helpers/http';
import { spawnService, type ServiceProcess } from '../helpers/service-process';
import { eventually, fakeUpstreamEnv, startFakes } from '../helpers/stack';

const ADMIN = 'admin-token-0123456789abcdef';
const WORKER_CONCURRENCY = 4;

describe('two API processes and two worker processes sharing Redis', () => {
  it('complete a 1,000-id warm batch with interactive traffic, a worker SIGKILLed midway and an API SIGTERMed with requests in flight', async () => {
    const { green, images, prefix, close } = await startFakes();
    const env = {
      ...fakeUpstreamEnv({ green, images }, prefix),
      LOG_LEVEL: 'info',
      ADMIN_TOKEN: ADMIN,
      MISS_RATE_PER_MIN: '0',
      GREEN_API_RATE_PER_SEC: '300',
      WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
      JOB_LOCK_MS: '1500',
    };
    const processes: ServiceProcess[] = [];
    const start = async (role: 'api' | 'worker') => {
      const service = spawnService(env, ['--role', role]);
      processes.push(service);
      return { service, url: await service.ready() };
    };
    try {
      green.setFallback({ kind: 'not-on-whatsapp' });
      const [api1, api2, worker1] = await Promise.all([start('api'), start('api'), start('worker'), start('worker')]);
      const batch = Array.from({ length: 1000 }, (_, i) => String(11010000000 + i));
      for (const id of batch) green.set(`${id}@c.us`, { kind: 'not-on-whatsapp' }, 5);

      const warm = await fetch(`${api1!.url}/v1/warm`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ chatIds: batch }),
      });
      const { batchId } = (await warm.json()) as { batchId: string };

      // Interactive requests on both APIs, for ids inside and outside the batch.
      const interactive = Array.from({ length: 40 }, (_, i) => {
        const id = i % 2 ? batch[i * 20]! : String(11011000000 + i);
        return get((i % 4 < 2 ? api1 : api2)!.url, `/avatar/${id}.webp`);
      });

      await eventually(() => green.calls.length > 300, 20_000, 20);
      worker1!.service.child.kill('SIGKILL');
      await worker1!.service.exited;

      // An API stops while its requests wait for slow lookups: they complete, and it exits 0.
      for (let i = 0; i < 5; i++) green.set(`${11012000000 + i}@c.us`, { kind: 'not-on-whatsapp' }, 800);
      const inFlight = Array.from({ length: 5 }, (_, i) => get(api2!.url, `/avatar/${11012000000 + i}.webp`));
      await eventually(() => green.callsFor('11012000000@c.us') === 1, 10_000, 20);
      api2!.service.child.kill('SIGTERM');
      for (const res of await Promise.all(inFlight)) expect(res.headers['x-avatar-status']).toBe('not-on-whatsapp');
      expect(await api2!.service.exited).toBe(0);

      for (const res of await Promise.all(interactive)) expect(res.status).toBe(200);

      const status = async () => (await (await fetch(`${api1!.url}/v1/warm/${batchId}`, { headers: { Authorization: `Bearer ${ADMIN}` } })).json()) as Record<string, number>;
      await eventually(async () => (await status()).pending === 0, 30_000, 200);
      expect(await status()).toMatchObject({ total: 1000, done: 1000, notOnWhatsapp: 1000, failed: 0 });

      // Every id was asked for; only jobs that were in the killed worker's hands may have been asked twice.
      const perId = new Map<string, number>();
      for (const call of green.calls) perId.set(call.chatId, (perId.get(call.chatId) ?? 0) + 1);
      for (const id of batch) expect(perId.get(`${id}@c.us`)).toBeGreaterThanOrEqual(1);
      const twice = [...perId.values()].filter((n) => n > 1).length;
      expect(twice).toBeLessThanOrEqual(WORKER_CONCURRENCY);
    } finally {
      for (const p of processes) p.child.kill('SIGKILL');
      await Promise.all(processes.map((p) => p.exited));
      await close();
    }
  }, 90_000);
});
