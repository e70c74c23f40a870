import request from 'supertest';
import { get } from '../helpers/http';
import { freePort } from '../helpers/redis-server';
import { spawnService, type ServiceProcess } from '../helpers/service-process';
import { eventually, fakeUpstreamEnv, startFakes, type Fakes } from '../helpers/stack';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';

const ADMIN = 'admin-token-0123456789abcdef';
const CHAT = '11007100001@c.us';
const ID = '11007100001';

describe('memory copies never outlive a change: two API processes (API_PROCESSES=2)', () => {
  let fakes: Fakes;
  let hook: WebhookReceiver;
  let service: ServiceProcess;
  let url: string;
  // A connection each: the two processes take turns at new connections.
  const fetchAvatar = () => get(url, `/avatar/${ID}.webp`, { Connection: 'close' });

  beforeAll(async () => {
    fakes = await startFakes();
    hook = await startWebhookReceiver();
    fakes.green.set(CHAT, { kind: 'avatar', url: await fakes.images.add('before') });
    service = spawnService({
      ...fakeUpstreamEnv(fakes, fakes.prefix),
      PORT: String(await freePort()),
      API_PROCESSES: '2',
      // Long enough that only the news of a change can explain a new picture.
      MEMORY_CACHE_TTL_MS: '600000',
      MISS_RATE_PER_MIN: '0',
      ADMIN_TOKEN: ADMIN,
      WEBHOOK_URL: hook.url,
      WEBHOOK_SECRET: 'webhook-secret-0123456789',
    });
    url = await service.ready();
  }, 60_000);
  afterAll(async () => {
    service.child.kill('SIGTERM');
    await service.exited;
    await hook.close();
    await fakes.close();
  });

  it('after a refresh finds a new picture, every request after the change event gets the new ETag; after DELETE, the next request makes one GetAvatar call', async () => {
    const first = await fetchAvatar();
    expect(first.headers['x-avatar-status']).toBe('ok');
    const before = first.headers.etag;
    // Both processes keep it in memory.
    const warmed = await Promise.all(Array.from({ length: 12 }, fetchAvatar));
    expect(warmed.map((r) => r.headers.etag)).toEqual(Array(12).fill(before));
    expect(warmed.filter((r) => r.headers['x-cache'] === 'HIT')).toHaveLength(12);

    fakes.green.set(CHAT, { kind: 'avatar', url: await fakes.images.add('after') });
    const refresh = await request(url).post(`/v1/avatars/${ID}/refresh`).set('Authorization', `Bearer ${ADMIN}`);
    expect(refresh.status).toBe(202);
    await eventually(() => hook.deliveries.length === 1, 10_000);
    const event = JSON.parse(hook.deliveries[0]!.body) as { previousEtag: string; etag: string };
    expect(event.previousEtag).toBe(before);

    const after = [];
    for (let i = 0; i < 12; i++) after.push(await fetchAvatar());
    expect(after.map((r) => r.headers.etag)).toEqual(Array(12).fill(event.etag));
    expect(event.etag).not.toBe(before);

    const calls = fakes.green.callsFor(CHAT);
    const forget = await request(url).delete(`/v1/avatars/${ID}`).set('Authorization', `Bearer ${ADMIN}`);
    expect(forget.status).toBe(204);
    const next = await fetchAvatar();
    expect(next.headers['x-cache']).not.toBe('HIT');
    expect(fakes.green.callsFor(CHAT)).toBe(calls + 1);
    // And from then on, hits again (both processes), with no more calls.
    for (let i = 0; i < 6; i++) expect((await fetchAvatar()).headers.etag).toBe(event.etag);
    expect(fakes.green.callsFor(CHAT)).toBe(calls + 1);
  }, 60_000);
});
