import { get } from '../helpers/http';
import { REDIS_URL, startStack, type Stack } from '../helpers/stack';
import { startTcpProxy, type SilentableProxy } from '../helpers/tcp-proxy';

const TIMEOUT_MS = 1500;

/**
 * Redis that stops answering with its connections open (a network partition, a stuck server): each request
 * waits for one command timeout at most, then gets the `error` answer browsers do not keep. Timed for real,
 * with margins for a loaded machine: one timeout is 1.5 s, two would be 3 s.
 */
describe('a silent Redis', () => {
  let proxy: SilentableProxy;
  let stack: Stack;
  beforeAll(async () => {
    const target = new URL(REDIS_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    stack = await startStack({ env: { REDIS_URL: proxy.url, REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS), MEMORY_CACHE_MB: '0' } });
    stack.green.set('11007200001@c.us', { kind: 'avatar', url: await stack.images.add('silent') });
    expect((await get(stack.url, '/avatar/11007200001.webp')).headers['x-avatar-status']).toBe('ok');
    proxy.silence();
  });
  afterAll(async () => {
    proxy.resume();
    await stack.close();
    await proxy.close();
  });

  const timed = async (path: string) => {
    const started = performance.now();
    const res = await get(stack.url, path);
    return { res, ms: performance.now() - started };
  };

  it('an image request costs one command timeout, not two, and gets the error placeholder with no-store', async () => {
    const { res, ms } = await timed('/avatar/11007200001.webp');
    expect(res.status).toBe(200);
    expect(res.headers['x-avatar-status']).toBe('error');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(ms).toBeLessThan(2 * TIMEOUT_MS - 300);
  }, 15_000);

  it('the JSON info answers status "error" with no-store (never a 500), after one command timeout', async () => {
    const { res, ms } = await timed('/avatar/11007200001.json');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(JSON.parse((res.body as Buffer).toString('utf8'))).toMatchObject({ chatId: '11007200001@c.us', status: 'error' });
    expect(ms).toBeLessThan(2 * TIMEOUT_MS - 300);
  }, 15_000);
});
