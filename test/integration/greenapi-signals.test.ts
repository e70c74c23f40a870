import request from 'supertest';
import { createKeys } from '../../src/avatar/keys';
import { get, readyz } from '../helpers/http';
import { eventually, startStack, type Stack } from '../helpers/stack';


const TOKEN = 'webhook-url-token-0123456789';
const ADMIN = 'admin-token-0123456789abcdef';

/** What Green API sends for an incoming message (its documented shape). */
function incoming(chatId: string, sender = chatId, type = 'incomingMessageReceived', idInstance: number | string = 1101000001) {
  return {
    typeWebhook: type,
    instanceData: { idInstance, wid: '11009999999@c.us', typeInstance: 'whatsapp' },
    timestamp: 1765000000,
    idMessage: 'BAE5F4886F6F2D05',
    senderData: { chatId, chatName: 'Someone', sender, senderName: 'Someone', senderContactName: '' },
    messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: 'hello' } },
  };
}
const stateChanged = (stateInstance: string, idInstance: number | string = 1101000001, timestamp = 1765000000) => ({
  typeWebhook: 'stateInstanceChanged',
  instanceData: { idInstance, wid: '11009999999@c.us', typeInstance: 'whatsapp' },
  timestamp,
  stateInstance,
});

describe('Green API notifications (POST /v1/greenapi/webhook)', () => {
  let stack: Stack;
  let keys: ReturnType<typeof createKeys>;
  const notify = (body: unknown, authorization: string | null = TOKEN) => {
    const req = request(stack.url).post('/v1/greenapi/webhook').set('Content-Type', 'application/json');
    if (authorization !== null) req.set('Authorization', authorization);
    return req.send(typeof body === 'string' ? body : JSON.stringify(body));
  };
  /** The contact's answer is stored: the warm finished. */
  const stored = (chatId: string) => eventually(async () => (await stack.redis.exists(keys.meta(chatId))) === 1);

  beforeAll(async () => {
    stack = await startStack({ env: { GREENAPI_WEBHOOK_TOKEN: TOKEN, ADMIN_TOKEN: ADMIN } });
    keys = createKeys(stack.config.redis.keyPrefix);
    stack.green.setFallback({ kind: 'avatar', url: await stack.images.add('chatting') });
  });
  afterAll(() => stack.close());

  it('a message from a new contact makes one GetAvatar call at once, and the first page view is a hit', async () => {
    const res = await notify(incoming('11006000001@c.us'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ received: 1, queued: 1 });
    await stored('11006000001@c.us');
    const view = await get(stack.url, '/avatar/11006000001.webp');
    expect(view.headers['x-cache']).toBe('HIT');
    expect(view.headers['x-avatar-status']).toBe('ok');
    expect(stack.green.callsFor('11006000001@c.us')).toBe(1);
  });

  it('more messages from a contact whose answer is fresh cost no call', async () => {
    await notify(incoming('11006000002@c.us'));
    await stored('11006000002@c.us');
    for (let i = 0; i < 5; i++) expect((await notify(incoming('11006000002@c.us'))).body).toMatchObject({ queued: 0, fresh: 1 });
    expect(stack.green.callsFor('11006000002@c.us')).toBe(1);
  });

  it('a group message warms the group and the participant; outgoing and @lid ids too', async () => {
    const res = await notify(incoming('120363043968066561@g.us', '11006000003@c.us'));
    expect(res.body).toMatchObject({ queued: 2 });
    expect((await notify(incoming('123456789012345@lid', '123456789012345@lid', 'outgoingAPIMessageReceived'))).body).toMatchObject({ queued: 1 });
    await Promise.all(['120363043968066561@g.us', '11006000003@c.us', '123456789012345@lid'].map(stored));
    expect(stack.green.callsFor('120363043968066561@g.us')).toBe(1);
    expect(stack.green.callsFor('11006000003@c.us')).toBe(1);
    expect(stack.green.callsFor('123456789012345@lid')).toBe(1);
  });

  it('takes an array forwarded by an app, the token bare or as Bearer', async () => {
    const res = await notify([incoming('11006000004@c.us'), incoming('11006000005@c.us', '11006000005@c.us', 'outgoingMessageReceived'), { typeWebhook: 'deviceInfo' }], `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: 3, queued: 2, fresh: 0, dropped: 0, ignored: 1 });
    await Promise.all(['11006000004@c.us', '11006000005@c.us'].map(stored));
  });

  it.each([
    ['no Authorization', null, 401],
    ['a wrong token', 'wrong-token', 401],
    ['the token with a Basic scheme', `Basic ${TOKEN}`, 401],
  ])('refuses %s (401), queueing nothing', async (_name, authorization, status) => {
    const res = await notify(incoming('11006000010@c.us'), authorization);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe('unauthorized');
  });

  it.each([
    ['malformed JSON', '{"typeWebhook":', 'invalid_json'],
    ['a body that is a string', '"incomingMessageReceived"', 'invalid_body'],
    ['a notification without typeWebhook', { senderData: { chatId: '11006000010@c.us' } }, 'invalid_notification'],
    ['an array with one bad entry', [incoming('11006000010@c.us'), 42], 'invalid_notification'],
    ['more than 1,000 notifications', Array.from({ length: 1001 }, () => incoming('11006000010@c.us')), 'too_many_notifications'],
  ])('answers 400 to %s, queueing nothing', async (_name, body, code) => {
    const res = await notify(body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
  });

  it('answers 413 to a body over 1 MB', async () => {
    const res = await notify({ ...incoming('11006000010@c.us'), padding: 'x'.repeat(1024 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('body_too_large');
  });

  it('ignores (200) unknown types and instances that are not configured', async () => {
    const res = await notify([{ typeWebhook: 'somethingNew', senderData: 'not an object' }, stateChanged('notAuthorized', 999), incoming('not-an-id')]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ received: 3, queued: 0, ignored: 3 });
  });

  it('nothing refused above was queued: a later warm is served while 11006000010 was never looked up', async () => {
    await notify(incoming('11006000011@c.us'));
    await stored('11006000011@c.us');
    expect(stack.green.callsFor('11006000010@c.us')).toBe(0);
    const metrics = (await request(stack.url).get('/metrics')).text;
    expect(metrics).toMatch(/avatar_greenapi_notifications_total\{type="incomingMessageReceived",outcome="queued"\} \d+/);
    expect(metrics).toMatch(/avatar_greenapi_notifications_total\{type="other",outcome="ignored"\} 1/);
  });

  it('stateInstanceChanged notAuthorized stops calls to the instance at once; authorized resumes them at once', async () => {
    expect((await notify(stateChanged('notAuthorized'))).status).toBe(200);
    expect((await readyz(stack.url, ADMIN)).body.instances).toEqual({ 1101000001: 'unauthorized' });
    const paused = await get(stack.url, '/avatar/11006000020.webp');
    expect(paused.headers['x-avatar-status']).toBe('error');
    expect(stack.green.callsFor('11006000020@c.us')).toBe(0);
    expect(stack.logs.some((l) => l.msg === 'Green API instance 1101000001 paused: unauthorized (stateInstanceChanged: notAuthorized)')).toBe(true);

    expect((await notify(stateChanged('authorized'))).status).toBe(200);
    expect((await readyz(stack.url, ADMIN)).body.instances).toEqual({ 1101000001: 'ok' });
    const resumed = await get(stack.url, '/avatar/11006000021.webp');
    expect(resumed.headers['x-avatar-status']).toBe('ok');
    expect(stack.green.callsFor('11006000021@c.us')).toBe(1);
  });

  it('a state notification retried late (older than the last applied) changes nothing', async () => {
    await notify(stateChanged('notAuthorized', 1101000001, 1765000100));
    await notify(stateChanged('authorized', 1101000001, 1765000200));
    // Green API delivers the first one again, hours later.
    expect((await notify(stateChanged('notAuthorized', 1101000001, 1765000100))).body).toMatchObject({ ignored: 1 });
    expect((await readyz(stack.url, ADMIN)).body.instances).toEqual({ 1101000001: 'ok' });
  });

  it('quotaExceeded pauses the instance as an HTTP 466 does, with its numbers', async () => {
    const quota = {
      typeWebhook: 'quotaExceeded',
      instanceData: { idInstance: 1101000001, wid: '11009999999@c.us', typeInstance: 'whatsapp' },
      timestamp: 1765000000,
      quotaData: { method: 'correspondents', used: 3, total: 3, status: 'CORRESPONDENTS_QUOTA_EXCEEDED', description: 'Monthly chats limit reached' },
    };
    expect((await notify(quota)).status).toBe(200);
    const ready = (await readyz(stack.url, ADMIN)).body;
    expect(ready.instances).toEqual({ 1101000001: 'quota' });
    expect(JSON.stringify(ready.quota)).toContain('CORRESPONDENTS_QUOTA_EXCEEDED');
    // authorized lifts only an unauthorized pause: a plan out of quota stays paused.
    expect((await notify(stateChanged('authorized', 1101000001, 1765000300))).body).toMatchObject({ ignored: 1 });
    expect((await readyz(stack.url, ADMIN)).body.instances).toEqual({ 1101000001: 'quota' });
    // A quota pause ends with its cool-down; the next test needs the instance.
    await stack.redis.del(`${stack.config.redis.keyPrefix}:breaker:1101000001`);
  });

  it('POST /v1/warm {"source":"contacts"} warms the address book with one GetContacts call', async () => {
    stack.green.setContacts(['11006000030@c.us', '11006000031@c.us', '120363000000000030@g.us', '123456789012030@lid', 'status@broadcast']);
    const res = await request(stack.url).post('/v1/warm').set('Authorization', `Bearer ${ADMIN}`).send({ source: 'contacts' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ accepted: 4, duplicates: 0, invalid: [{ id: 'status@broadcast', error: 'invalid_chat_id' }] });
    expect(stack.green.contactsCalls).toBe(1);
    await eventually(async () => (await request(stack.url).get(`/v1/warm/${res.body.batchId}`).set('Authorization', `Bearer ${ADMIN}`)).body.done === 4);
    for (const id of ['11006000030@c.us', '11006000031@c.us', '120363000000000030@g.us', '123456789012030@lid']) expect(stack.green.callsFor(id)).toBe(1);
    const unknown = await request(stack.url).post('/v1/warm').set('Authorization', `Bearer ${ADMIN}`).send({ source: 'contacts', instance: '42' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('unknown_instance');
    expect(stack.green.contactsCalls).toBe(1);
  });
});

describe('the Green API webhook without GREENAPI_WEBHOOK_TOKEN', () => {
  it('is off (404)', async () => {
    const stack = await startStack();
    try {
      const res = await request(stack.url).post('/v1/greenapi/webhook').send(incoming('11006000040@c.us'));
      expect(res.status).toBe(404);
    } finally {
      await stack.close();
    }
  });
});
