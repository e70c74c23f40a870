import sharp from 'sharp';
import { GENERATIONS, type AnswerGeneration, type GetAvatarBehaviour } from '../fakes/green-api';
import { startStack, type Stack } from '../helpers/stack';
import { errorOf, get, readyz } from '../helpers/http';

/** /readyz's details are the admin's on the public port. */
const READYZ_ADMIN = 'admin-token-0123456789abcdef';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

type Case = 'avatar' | 'no-avatar' | 'hidden' | 'not-on-whatsapp';

/** What each generation can say, and the status the service answers for it. */
const EXPECTED: Record<AnswerGeneration, Record<Case, string>> = {
  exists: { avatar: 'ok', 'no-avatar': 'no-avatar', hidden: 'no-avatar', 'not-on-whatsapp': 'not-on-whatsapp' },
  // The current page has no flag at all: an empty urlAvatar is "no picture to show".
  'url-only': { avatar: 'ok', 'no-avatar': 'no-avatar', hidden: 'no-avatar', 'not-on-whatsapp': 'no-avatar' },
  // `available: false` proves only that the picture is hidden from this instance, never "not on WhatsApp".
  available: { avatar: 'ok', 'no-avatar': 'no-avatar', hidden: 'private', 'not-on-whatsapp': 'private' },
};

const cases: [AnswerGeneration, Case, string][] = GENERATIONS.flatMap((generation, g) =>
  (['avatar', 'no-avatar', 'hidden', 'not-on-whatsapp'] as const).map((kind, k): [AnswerGeneration, Case, string] => [generation, kind, `1100007${g}${k}00`]),
);

describe('every generation of the GetAvatar answer, through HTTP', () => {
  it.each(cases)('%s / %s: the right status, cached, one GetAvatar call', async (generation, kind, id) => {
    const chatId = `${id}@c.us`;
    const behaviour: GetAvatarBehaviour =
      kind === 'avatar' ? { kind, generation, url: await stack.images.add(`shape-${id}`) } : { kind, generation };
    stack.green.set(chatId, behaviour);
    const expected = EXPECTED[generation][kind];

    const first = await get(stack.url, `/avatar/${id}.webp`);
    expect(first.status).toBe(200);
    expect(first.headers['x-avatar-status']).toBe(expected);
    expect(first.headers['cache-control']).toMatch(/^public, max-age=\d+/);
    const again = await get(stack.url, `/avatar/${id}.png?size=64`);
    expect(again.headers['x-avatar-status']).toBe(expected);
    expect(await sharp(again.body as Buffer).metadata()).toMatchObject({ format: 'png', width: 64 });

    expect(stack.green.callsFor(chatId)).toBe(1);
    expect(stack.images.downloads(`shape-${id}`)).toBe(kind === 'avatar' ? 1 : 0);
  });

  it('ignores unknown fields in the answer', async () => {
    const url = await stack.images.add('shape-extra');
    stack.green.set('11000080001@c.us', { kind: 'json', body: { urlAvatar: url, available: true, lastUpdate: 1732000000, extra: { nested: [1] } } });
    const res = await get(stack.url, '/avatar/11000080001.webp');
    expect(res.headers['x-avatar-status']).toBe('ok');
    expect(stack.green.callsFor('11000080001@c.us')).toBe(1);
  });

  it('takes a non-empty urlAvatar as a picture whatever the flags say', async () => {
    const url = await stack.images.add('shape-flagged');
    stack.green.set('11000080002@c.us', { kind: 'json', body: { urlAvatar: url, available: false } });
    expect((await get(stack.url, '/avatar/11000080002.webp')).headers['x-avatar-status']).toBe('ok');
    expect(stack.images.downloads('shape-flagged')).toBe(1);
  });
});

describe('phone numbers as E.164 has them: 8 to 15 digits with the country code', () => {
  it.each([
    ['12345678', '8 digits'],
    ['6591234567', 'Singapore, 10 digits'],
    ['11001234567', '11 digits'],
    ['6281234567890', 'Indonesia, 13 digits'],
    ['123456789012345', '15 digits'],
  ])('%s (%s) is asked of Green API as <digits>@c.us, once', async (digits) => {
    stack.green.set(`${digits}@c.us`, { kind: 'no-avatar', generation: 'url-only' });
    const res = await get(stack.url, `/avatar/${digits}.webp`);
    expect(res.headers['x-avatar-status']).toBe('no-avatar');
    await get(stack.url, `/avatar/${digits}@c.us.webp`);
    expect(stack.green.callsFor(`${digits}@c.us`)).toBe(1);
  });

  it('accepts a full @lid chatId', async () => {
    stack.green.set('123456789012345@lid', { kind: 'no-avatar' });
    expect((await get(stack.url, '/avatar/123456789012345@lid.webp')).headers['x-avatar-status']).toBe('no-avatar');
    expect(stack.green.callsFor('123456789012345@lid')).toBe(1);
  });

  it.each(['1234567', '1234567890123456', '01234567890', '0065912345678', '+6591234567'])(
    '%s is 400 invalid_chat_id with no upstream call',
    async (id) => {
      const before = stack.green.calls.length;
      const res = await get(stack.url, `/avatar/${encodeURIComponent(id)}.webp`);
      expect(res.status).toBe(400);
      expect(errorOf(res)).toEqual({ code: 'invalid_chat_id', message: expect.stringContaining('8-15 digits') });
      expect(stack.green.calls.length).toBe(before);
    },
  );

  it("leaves a well-formed number that does not exist to Green API's `bad request data`", async () => {
    stack.green.set('99999999@c.us', { kind: 'reason', reason: 'bad request data' });
    const res = await get(stack.url, '/avatar/99999999.webp');
    expect(res.headers['x-avatar-status']).toBe('not-on-whatsapp');
    await get(stack.url, '/avatar/99999999.png');
    expect(stack.green.callsFor('99999999@c.us')).toBe(1);
  });
});

describe('HTTP 466: the plan quota, reported per instance', () => {
  it('pauses the instance and shows what Green API said in /readyz, /metrics and one log line', async () => {
    const quotaStack = await startStack({ env: { ADMIN_TOKEN: READYZ_ADMIN } });
    try {
      const token = quotaStack.green.apiToken;
      quotaStack.green.setFallback({
        kind: 'http',
        status: 466,
        body: {
          invokeStatus: { method: 'getAvatar', used: '1000', total: '1000', status: 'QUOTE_EXCEEDED', description: `Monthly limit for /waInstance1/getAvatar/${token}` },
          correspondentsStatus: { method: 'correspondents', used: '3', total: '3', status: 'QUOTE_EXCEEDED', description: 'Chats' },
        },
      });
      const res = await get(quotaStack.url, '/avatar/11000081001.webp');
      expect(res.headers['x-avatar-status']).toBe('error');
      const id = quotaStack.green.idInstance;

      const ready = await readyz(quotaStack.url, READYZ_ADMIN);
      expect(ready.status).toBe(200);
      expect(ready.body.upstream).toBe('quota');
      expect(ready.body.instances[id]).toBe('quota');
      expect(ready.body.quota[id]).toMatchObject({
        invoke: { method: 'getAvatar', used: 1000, total: 1000, status: 'QUOTE_EXCEEDED' },
        correspondents: { method: 'correspondents', used: 3, total: 3 },
      });

      const metrics = await (await fetch(`${quotaStack.url}/metrics`)).text();
      expect(metrics).toContain(`avatar_greenapi_instance_state{instance="${id}",state="quota"} 1`);
      expect(metrics).toContain(`avatar_greenapi_quota_used{instance="${id}",limit="invoke"} 1000`);
      expect(metrics).toContain(`avatar_greenapi_quota_total{instance="${id}",limit="correspondents"} 3`);

      const paused = quotaStack.logs.filter((l) => String(l.msg).includes('paused: quota'));
      expect(paused).toHaveLength(1);
      expect(paused[0]!.err).toContain('getAvatar 1000/1000 QUOTE_EXCEEDED');
      const everything = JSON.stringify([quotaStack.logs, ready.body, metrics]);
      expect(everything).not.toContain(token.slice(0, 10));
    } finally {
      await quotaStack.close();
    }
  });
});
