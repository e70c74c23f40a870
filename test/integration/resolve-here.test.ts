import { Redis } from 'ioredis';
import { createKeys } from '../../src/avatar/keys';
import { get } from '../helpers/http';
import { spawnService, type ServiceProcess } from '../helpers/service-process';
import { eventually, fakeUpstreamEnv, REDIS_URL, startFakes, type Fakes } from '../helpers/stack';

/**
 * Misses resolved in the serving process, as `npm start` runs it, with two such processes sharing Redis (two
 * replicas): what a resolve job guarantees holds across them.
 */
let fakes: Fakes;
let services: ServiceProcess[];
let urls: string[];

beforeAll(async () => {
  fakes = await startFakes();
  const env = { ...fakeUpstreamEnv(fakes, fakes.prefix), LOG_LEVEL: 'info', MISS_RATE_PER_MIN: '0', MISS_WAIT_MS: '5000' };
  services = [spawnService(env), spawnService(env)];
  urls = await Promise.all(services.map((s) => s.ready()));
}, 30_000);

afterAll(async () => {
  for (const service of services) service.child.kill('SIGTERM');
  await Promise.all(services.map((s) => s.exited));
  await fakes.close();
});

describe('misses resolved in the serving process, two processes sharing Redis', () => {
  it('one cold chatId asked of both at once: 1 GetAvatar call and 1 download, the same image everywhere', async () => {
    const chatId = '11000097001@c.us';
    fakes.green.set(chatId, { kind: 'avatar', url: await fakes.images.add('shared') }, 300);
    const responses = await Promise.all(Array.from({ length: 60 }, (_, i) => get(urls[i % 2]!, '/avatar/11000097001.webp')));
    expect(responses.map((r) => r.headers['x-avatar-status'])).toEqual(responses.map(() => 'ok'));
    expect(new Set(responses.map((r) => r.headers['etag'])).size).toBe(1);
    expect(fakes.green.callsFor(chatId)).toBe(1);
    expect(fakes.images.downloads('shared')).toBe(1);
  });

  it("a 429 met by one process pauses the other's misses too, for its Retry-After", async () => {
    const [limited, other] = ['11000097101@c.us', '11000097102@c.us'];
    fakes.green.queue(limited, { kind: 'http', status: 429, body: {}, headers: { 'Retry-After': '1' } });
    fakes.green.set(limited, { kind: 'no-avatar' });
    fakes.green.set(other, { kind: 'no-avatar' });
    const first = get(urls[0]!, '/avatar/11000097101.webp');
    // Until the first process has its 429 back and has recorded the pause, a call from the other may go out:
    // the pause covers misses asked after it was met, not calls already on their way.
    const redis = new Redis(REDIS_URL);
    try {
      await eventually(async () => (await redis.exists(createKeys(fakes.prefix).resolvePause)) === 1);
    } finally {
      await redis.quit();
    }
    const answer = await get(urls[1]!, '/avatar/11000097102.webp');
    expect(answer.headers['x-avatar-status']).toBe('no-avatar');
    expect((await first).headers['x-avatar-status']).toBe('no-avatar');
    const at = (chatId: string) => fakes.green.calls.filter((c) => c.chatId === chatId).map((c) => c.at);
    expect(at(other)).toHaveLength(1);
    expect(at(other)[0]! - at(limited)[0]!).toBeGreaterThanOrEqual(900);
    expect(at(limited)).toHaveLength(2);
  });
});
