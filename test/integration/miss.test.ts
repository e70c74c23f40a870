import sharp from 'sharp';
import { eventually, ManualClock, startStack, type Stack } from '../helpers/stack';
import { get } from '../helpers/http';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { MISS_WAIT_MS: '3000', AVATAR_TTL_SECONDS: '1', NEGATIVE_TTL_SECONDS: '1' } });
});
afterAll(() => stack.close());

describe('misses', () => {
  it('100 concurrent requests for one cold chatId make 1 GetAvatar call and 1 download', async () => {
    stack.green.set('11000000100@c.us', { kind: 'avatar', url: await stack.images.add('crowd') }, 200);
    const responses = await Promise.all(Array.from({ length: 100 }, () => get(stack.url, '/avatar/11000000100.webp')));
    for (const res of responses) {
      expect(res.status).toBe(200);
      expect(res.headers['x-avatar-status']).toBe('ok');
    }
    expect(new Set(responses.map((r) => r.headers['etag'])).size).toBe(1);
    expect(stack.green.callsFor('11000000100@c.us')).toBe(1);
    expect(stack.images.downloads('crowd')).toBe(1);
  });

  it('answers a pending placeholder (no-store) when the upstream is slower than MISS_WAIT_MS, and the job goes on', async () => {
    const slow = await startStack({ env: { MISS_WAIT_MS: '200' } });
    try {
      slow.green.set('11000000200@c.us', { kind: 'avatar', url: await slow.images.add('slow') }, 1000);
      const first = await get(slow.url, '/avatar/11000000200.webp?size=64');
      expect(first.status).toBe(200);
      expect(first.headers['x-avatar-status']).toBe('pending');
      expect(first.headers['cache-control']).toBe('no-store');
      expect(await sharp(first.body as Buffer).metadata()).toMatchObject({ width: 64, height: 64 });
      await eventually(() => slow.images.downloads('slow') === 1);
      let next = first;
      await eventually(async () => {
        next = await get(slow.url, '/avatar/11000000200.webp?size=64');
        return next.headers['x-avatar-status'] === 'ok';
      });
      expect(next.headers['cache-control']).toMatch(/^public/);
      expect(slow.green.callsFor('11000000200@c.us')).toBe(1);
    } finally {
      await slow.close();
    }
  });

  it('asks GetAvatar again once a negative answer expires', async () => {
    stack.green.set('11000000300@c.us', { kind: 'not-on-whatsapp' });
    const first = await get(stack.url, '/avatar/11000000300.webp');
    expect(first.headers['x-avatar-status']).toBe('not-on-whatsapp');
    stack.green.set('11000000300@c.us', { kind: 'avatar', url: await stack.images.add('joined') });
    await eventually(async () => (await get(stack.url, '/avatar/11000000300.webp')).headers['x-avatar-status'] === 'ok', 5000, 100);
    expect(stack.green.callsFor('11000000300@c.us')).toBe(2);
  });

  it('serves the old image while refreshing an expired answer, then the new one with a new ETag', async () => {
    const clock = new ManualClock();
    const timed = await startStack({ clock: clock.now });
    try {
      timed.green.set('11000000400@c.us', { kind: 'avatar', url: await timed.images.add('before', { seed: 40 }) });
      const first = await get(timed.url, '/avatar/11000000400.webp');
      expect(first.headers['x-avatar-status']).toBe('ok');
      timed.green.set('11000000400@c.us', { kind: 'avatar', url: await timed.images.add('after', { seed: 41 }) });
      clock.advance(86_400 + 1);
      const stale = await get(timed.url, '/avatar/11000000400.webp');
      expect(stale.headers['x-cache']).toBe('STALE');
      expect(stale.headers['etag']).toBe(first.headers['etag']);
      await eventually(async () => (await get(timed.url, '/avatar/11000000400.webp')).headers['etag'] !== first.headers['etag'], 5000, 50);
      expect(timed.green.callsFor('11000000400@c.us')).toBe(2);
      expect(timed.images.downloads('after')).toBe(1);
    } finally {
      await timed.close();
    }
  });
});
