import request from 'supertest';
import type { Redis } from 'ioredis';
import { createKeys } from '../../src/avatar/keys';
import type { GetAvatarBehaviour } from '../fakes/green-api';
import { eventually, startStack, type Stack } from '../helpers/stack';
import { get, readyz } from '../helpers/http';

/** /readyz's details are the admin's on the public port. */
const READYZ_ADMIN = 'admin-token-0123456789abcdef';

const ADMIN_TOKEN = 'admin-token-for-hostile-tests';

/** Every value stored under a prefix, whatever its type, as text. */
async function everythingUnder(redis: Redis, prefix: string): Promise<string> {
  const parts: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      const value =
        type === 'string' ? await redis.getBuffer(key).then((b) => b?.toString('latin1'))
        : type === 'hash' ? await redis.hgetall(key)
        : type === 'list' ? await redis.lrange(key, 0, -1)
        : type === 'set' ? await redis.smembers(key)
        : type === 'zset' ? await redis.zrange(key, '0', '-1')
        : type === 'stream' ? await redis.xrange(key, '-', '+')
        : '';
      parts.push(key, JSON.stringify(value));
    }
  } while (cursor !== '0');
  return parts.join('\n');
}

/** Every 10-character piece of the token: none may appear anywhere. */
function pieces(token: string): string[] {
  return Array.from({ length: token.length - 9 }, (_, i) => token.slice(i, i + 10));
}

describe('a Green API that echoes the token in its errors', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      env: { MISS_WAIT_MS: '300', GREEN_API_TIMEOUT_MS: '300', JOB_BACKOFF_MS: '20', JOB_ATTEMPTS: '2', AUTH_COOLDOWN_SECONDS: '0', QUOTA_COOLDOWN_SECONDS: '0', ADMIN_TOKEN },
    });
  });
  afterAll(() => stack.close());

  it('keeps no 10-character piece of the token in Redis, in any log line or in the queue dashboard', async () => {
    const token = stack.green.apiToken;
    const path = `/waInstance${stack.green.idInstance}/getAvatar/${token}`;
    const shapes: GetAvatarBehaviour[] = [
      { kind: 'validation-400' },
      { kind: 'http', status: 400, body: { statusCode: 400, path, message: 'Something odd happened' } },
      { kind: 'http', status: 400, body: `plain text error at ${path}` },
      { kind: 'http', status: 466, body: { invokeStatus: { method: 'getAvatar', used: '5', total: '5', status: 'QUOTE_EXCEEDED', description: `quota of ${path}` } } },
      { kind: 'reason', reason: `upstream failure for ${path} (${token.slice(4, 24)})` },
      { kind: 'http', status: 500, body: { path, message: `internal ${token}` } },
      { kind: 'http', status: 418, body: { path } },
      { kind: 'reset' },
      { kind: 'stream', bytes: 100, chunkBytes: 1, intervalMs: 100 },
    ];
    const ids = shapes.map((_, i) => `1100009100${i}`);
    shapes.forEach((shape, i) => stack.green.set(`${ids[i]}@c.us`, shape));
    for (const id of ids) await get(stack.url, `/avatar/${id}.webp`);
    // Every contact's lookup has ended: an answer cached or its final failure marked.
    const keys = createKeys(stack.config.redis.keyPrefix);
    await eventually(async () => {
      const ended = await Promise.all(ids.map(async (id) => (await stack.redis.exists(keys.meta(`${id}@c.us`))) > 0));
      return ended.every(Boolean);
    }, 10_000);

    const dashboard = await request(stack.url).get('/admin/queues/api/queues?activeQueue=resolve&status=failed').set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(dashboard.status).toBe(200);
    const haystacks = { redis: await everythingUnder(stack.redis, stack.config.redis.keyPrefix), logs: JSON.stringify(stack.logs), dashboard: dashboard.text };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const piece of pieces(token)) expect({ where, found: text.includes(piece) }).toEqual({ where, found: false });
    }
    // The errors are still there to read, without the upstream's text.
    expect(haystacks.logs).toContain('GetAvatar refused the request (HTTP 400');
    expect(haystacks.logs).toContain('GetAvatar answered reason');
  });
});

describe('HTTP 400 classified by its body', () => {
  it("caches Green API's validation error as an answer for that chatId and keeps the instance working", async () => {
    const stack = await startStack({ env: { ADMIN_TOKEN: READYZ_ADMIN } });
    try {
      stack.green.set('11000092001@c.us', { kind: 'validation-400' });
      const refused = await get(stack.url, '/avatar/11000092001.webp');
      expect(refused.headers['x-avatar-status']).toBe('not-on-whatsapp');
      expect(refused.headers['cache-control']).toMatch(/^public, max-age=/);
      await get(stack.url, '/avatar/11000092001.png');
      expect(stack.green.callsFor('11000092001@c.us')).toBe(1);

      stack.green.set('11000092002@c.us', { kind: 'avatar', url: await stack.images.add('after-400') });
      expect((await get(stack.url, '/avatar/11000092002.webp')).headers['x-avatar-status']).toBe('ok');
      expect((await readyz(stack.url, READYZ_ADMIN)).body.upstream).toBe('ok');
    } finally {
      await stack.close();
    }
  });

  it('pauses the instance after three 400s it cannot read within a minute, not after one', async () => {
    const stack = await startStack({ env: { JOB_ATTEMPTS: '1', ADMIN_TOKEN: READYZ_ADMIN } });
    try {
      stack.green.setFallback({ kind: 'http', status: 400, body: { message: 'Something odd happened' } });
      for (const id of ['11000092101', '11000092102']) {
        await get(stack.url, `/avatar/${id}.webp`);
        expect((await readyz(stack.url, READYZ_ADMIN)).body.upstream).toBe('ok');
      }
      await get(stack.url, '/avatar/11000092103.webp');
      expect((await readyz(stack.url, READYZ_ADMIN)).body.upstream).toBe('unauthorized');
      const calls = stack.green.calls.length;
      await get(stack.url, '/avatar/11000092104.webp');
      expect(stack.green.calls.length).toBe(calls);
    } finally {
      await stack.close();
    }
  });
});

describe('a GetAvatar call is bounded end to end', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { GREEN_API_TIMEOUT_MS: '500', JOB_ATTEMPTS: '1', MISS_WAIT_MS: '2000' } });
  });
  afterAll(() => stack.close());

  it('gives up on a body trickled a byte at a time after GREEN_API_TIMEOUT_MS, not when it ends', async () => {
    // 200 bytes at one byte per 100 ms would take 20 s.
    stack.green.set('11000093001@c.us', { kind: 'stream', bytes: 200, chunkBytes: 1, intervalMs: 100 });
    await get(stack.url, '/avatar/11000093001.webp');
    await eventually(() => stack.logs.some((l) => l.msg === 'GetAvatar' && l.chatId === '11000093001@c.us'), 5000);
    const line = stack.logs.find((l) => l.msg === 'GetAvatar' && l.chatId === '11000093001@c.us')!;
    expect(line.err).toBe('GetAvatar took longer than 500 ms');
    // Bounded by the timeout, far from the 20 s the body takes (a loaded machine may add a second or two).
    expect(line.ms as number).toBeLessThan(5000);
  });

  it('stops reading a 64 MiB answer at 64 KB', async () => {
    stack.green.set('11000093002@c.us', { kind: 'stream', bytes: 64 * 1024 * 1024, chunkBytes: 64 * 1024, intervalMs: 0 });
    await get(stack.url, '/avatar/11000093002.webp');
    await eventually(() => stack.green.streamed.length > 1, 5000);
    const line = stack.logs.find((l) => l.msg === 'GetAvatar' && l.chatId === '11000093002@c.us')!;
    expect(line.err).toBe('GetAvatar answer larger than 65536 bytes');
    // What the fake managed to write before the client hung up: socket buffers, not the body.
    expect(stack.green.streamed.at(-1)!).toBeLessThan(16 * 1024 * 1024);
  });
});
