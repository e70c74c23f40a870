import { eventually, ManualClock, startStack } from '../helpers/stack';
import { get } from '../helpers/http';

/** Freshness follows the service's clock: a day passes in a test; the keep-fresh job itself runs every second. */
describe('keep-fresh (REFRESH_AHEAD_SECONDS)', () => {
  it('re-resolves a recently requested avatar before its answer expires, so it is never served stale', async () => {
    const clock = new ManualClock();
    const stack = await startStack({ clock: clock.now, env: { REFRESH_AHEAD_SECONDS: '3600', REFRESH_CHECK_SECONDS: '1', MEMORY_CACHE_MB: '0' } });
    try {
      stack.green.set('11007000001@c.us', { kind: 'avatar', url: await stack.images.add('popular') });
      stack.green.set('11007000002@c.us', { kind: 'avatar', url: await stack.images.add('forgotten') });
      expect((await get(stack.url, '/avatar/11007000001.webp')).headers['x-avatar-status']).toBe('ok');
      expect((await get(stack.url, '/avatar/11007000002.webp')).headers['x-avatar-status']).toBe('ok');
      // Half an hour before their day is up, both are due: refreshed with no request needed.
      clock.advance(86_400 - 1800);
      await eventually(() => stack.green.callsFor('11007000001@c.us') >= 2 && stack.green.callsFor('11007000002@c.us') >= 2, 10_000, 100);
      // Stored once browsers may keep it a full BROWSER_MAX_AGE_SECONDS again (half an hour was left before).
      await eventually(async () => (await get(stack.url, '/avatar/11007000001.webp')).headers['cache-control']!.includes('max-age=3600'), 5000, 100);
      clock.advance(3600);
      expect((await get(stack.url, '/avatar/11007000001.webp')).headers['x-cache']).toBe('HIT');
    } finally {
      await stack.close();
    }
  }, 20_000);

  it('is off with REFRESH_AHEAD_SECONDS=0', async () => {
    const clock = new ManualClock();
    const stack = await startStack({ clock: clock.now, env: { REFRESH_AHEAD_SECONDS: '0', REFRESH_CHECK_SECONDS: '1' } });
    try {
      stack.green.set('11007000003@c.us', { kind: 'avatar', url: await stack.images.add('left-alone') });
      await get(stack.url, '/avatar/11007000003.webp');
      clock.advance(86_400 + 1);
      // Nothing refreshed it ahead: the first request after its day is served stale (and starts the refresh).
      expect((await get(stack.url, '/avatar/11007000003.webp?size=64')).headers['x-cache']).toBe('STALE');
    } finally {
      await stack.close();
    }
  }, 20_000);
});
