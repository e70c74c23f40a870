import { createHmac } from 'node:crypto';
import request from 'supertest';
import { eventually, startStack, type Stack } from '../helpers/stack';
import { get } from '../helpers/http';
import { startWebhookReceiver as receiver } from '../helpers/webhook-receiver';

const ADMIN = 'admin-token-0123456789abcdef';
const SECRET = 'webhook-secret-0123456789';

const refresh = (stack: Stack, id: string) => request(stack.url).post(`/v1/avatars/${id}/refresh`).set('Authorization', `Bearer ${ADMIN}`);

describe('change events', () => {
  let stack: Stack;
  let hook: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    hook = await receiver(2);
    stack = await startStack({ env: { ADMIN_TOKEN: ADMIN, WEBHOOK_URL: hook.url, WEBHOOK_SECRET: SECRET, JOB_BACKOFF_MS: '20', MEMORY_CACHE_TTL_MS: '0' } });
  });
  afterAll(async () => {
    await stack.close();
    await hook.close();
  });

  const events = async () => (await stack.redis.xrange(`${stack.config.redis.keyPrefix}:events`, '-', '+')).map(([, fields]) => {
    const event: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) event[fields[i]!] = fields[i + 1]!;
    return event;
  });

  it('a new picture is one event in the stream and one signed webhook, delivered after a receiver failed twice', async () => {
    const chatId = '11009000001@c.us';
    stack.green.set(chatId, { kind: 'avatar', url: await stack.images.add('event-before', { seed: 51 }) });
    const before = await get(stack.url, '/avatar/11009000001.webp');
    // A first answer for a contact never seen is not a change.
    expect(await events()).toEqual([]);

    stack.green.set(chatId, { kind: 'avatar', url: await stack.images.add('event-after', { seed: 52 }) });
    expect((await refresh(stack, '11009000001')).status).toBe(202);
    await eventually(() => hook.deliveries.some((d) => d.answered === 204), 10_000, 20);

    const [event, ...more] = await events();
    expect(more).toEqual([]);
    const after = await get(stack.url, '/avatar/11009000001.webp');
    expect(event).toMatchObject({ type: 'avatar.changed', chatId, status: 'ok', etag: after.headers['etag'], previousEtag: before.headers['etag'] });
    expect(event!.etag).not.toBe(event!.previousEtag);
    expect(Date.parse(event!.at!)).toBeGreaterThan(Date.now() - 60_000);

    // Three tries of the same event; each body is the event, each signature the HMAC of the raw body.
    expect(hook.deliveries.map((d) => d.answered)).toEqual([500, 500, 204]);
    for (const d of hook.deliveries) {
      expect(JSON.parse(d.body)).toEqual(event);
      expect(d.eventId).toBe(event!.id);
      expect(d.signature).toBe(`sha256=${createHmac('sha256', SECRET).update(d.body).digest('hex')}`);
    }
  });

  it('a removed picture is an event too; an unchanged refresh is none', async () => {
    const chatId = '11009000002@c.us';
    stack.green.set(chatId, { kind: 'avatar', url: await stack.images.add('event-removed', { seed: 53 }) });
    await get(stack.url, '/avatar/11009000002.webp');
    const count = (await events()).length;

    await refresh(stack, '11009000002');
    await eventually(() => stack.green.callsFor(chatId) === 2, 5000);
    await eventually(async () => (await stack.redis.hget(`${stack.config.redis.keyPrefix}:meta:{${chatId}}`, 'lifetime')) === String(2 * stack.config.ttl.avatarSeconds), 5000);
    expect((await events()).length).toBe(count);

    stack.green.set(chatId, { kind: 'no-avatar', generation: 'url-only' });
    await refresh(stack, '11009000002');
    await eventually(async () => (await events()).length === count + 1, 5000);
    expect((await events()).at(-1)).toMatchObject({ chatId, status: 'no-avatar' });
  });
});
