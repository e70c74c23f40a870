import { eventually, startStack } from '../helpers/stack';
import { get } from '../helpers/http';

describe('keep-fresh (REFRESH_AHEAD_SECONDS)', () => {
  it('re-resolves a recently requested avatar before its answer expires, so it is never served stale', async () => {
    const stack = await startStack({ env: { AVATAR_TTL_SECONDS: '4', REFRESH_AHEAD_SECONDS: '3', REFRESH_CHECK_SECONDS: '1', MEMORY_CACHE_TTL_MS: '100' } });
    try {
      stack.green.set('11007000001@c.us', { kind: 'avatar', url: await stack.images.add('popular') });
      stack.green.set('11007000002@c.us', { kind: 'avatar', url: await stack.images.add('forgotten') });
      expect((await get(stack.url, '/avatar/11007000001.webp')).headers['x-avatar-status']).toBe('ok');
      expect((await get(stack.url, '/avatar/11007000002.webp')).headers['x-avatar-status']).toBe('ok');
      // Both were requested, so both are refreshed ahead of their 4-second expiry, with no request needed.
      await eventually(() => stack.green.callsFor('11007000001@c.us') >= 2 && stack.green.callsFor('11007000002@c.us') >= 2, 10_000, 100);
      const res = await get(stack.url, '/avatar/11007000001.webp');
      expect(res.headers['x-cache']).toBe('HIT');
    } finally {
      await stack.close();
    }
  }, 20_000);

  it('is off with REFRESH_AHEAD_SECONDS=0', async () => {
    const stack = await startStack({ env: { AVATAR_TTL_SECONDS: '2', REFRESH_AHEAD_SECONDS: '0', REFRESH_CHECK_SECONDS: '1' } });
    try {
      stack.green.set('11007000003@c.us', { kind: 'avatar', url: await stack.images.add('left-alone') });
      await get(stack.url, '/avatar/11007000003.webp');
      let stale = false;
      await eventually(async () => {
        stale = (await get(stack.url, '/avatar/11007000003.webp?size=64')).headers['x-cache'] === 'STALE';
        return stale;
      }, 6000, 200);
      expect(stale).toBe(true);
    } finally {
      await stack.close();
    }
  }, 20_000);
});
