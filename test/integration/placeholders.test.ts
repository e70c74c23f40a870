import sharp from 'sharp';
import { startStack, type Stack } from '../helpers/stack';
import { errorOf, get } from '../helpers/http';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { NEGATIVE_TTL_SECONDS: '600' } });
  stack.green.set('11000000001@c.us', { kind: 'no-avatar' });
  stack.green.set('11000000002@c.us', { kind: 'not-on-whatsapp' });
  stack.green.set('11000000003@c.us', { kind: 'json', body: { available: false, urlAvatar: '' } });
});
afterAll(() => stack.close());

describe('placeholders', () => {
  it.each([
    ['11000000001', 'no-avatar'],
    ['11000000002', 'not-on-whatsapp'],
    ['11000000003', 'private'],
  ])('%s gets a %s placeholder of the asked size and format', async (id, status) => {
    const res = await get(stack.url, `/avatar/${id}.png?size=96`);
    expect(res.status).toBe(200);
    expect(res.headers['x-avatar-status']).toBe(status);
    expect(res.headers['content-type']).toBe('image/png');
    expect(await sharp(res.body as Buffer).metadata()).toMatchObject({ format: 'png', width: 96, height: 96 });
    // Cached no longer than the answer lives (NEGATIVE_TTL_SECONDS=600).
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers['cache-control'] ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(500);
    expect(maxAge).toBeLessThanOrEqual(600);
  });

  it('answers a negative from the cache with no new upstream call', async () => {
    await get(stack.url, '/avatar/11000000002.webp');
    const calls = stack.green.callsFor('11000000002@c.us');
    const res = await get(stack.url, '/avatar/11000000002.avif?size=256');
    expect(res.headers['x-cache']).toBe('HIT');
    expect(await sharp(res.body as Buffer).metadata()).toMatchObject({ format: 'heif', width: 256, height: 256 });
    expect(stack.green.callsFor('11000000002@c.us')).toBe(calls);
  });

  it('draws the same placeholder for the same chatId every time, with a stable ETag', async () => {
    const a = await get(stack.url, '/avatar/11000000001.webp?size=64');
    const b = await get(stack.url, '/avatar/11000000001.webp?size=64');
    expect(a.headers['etag']).toBe(b.headers['etag']);
    expect(Buffer.compare(a.body as Buffer, b.body as Buffer)).toBe(0);
    const revalidated = await get(stack.url, '/avatar/11000000001.webp?size=64', { 'If-None-Match': a.headers['etag']! });
    expect(revalidated.status).toBe(304);
  });

  it('answers 404 instead of a placeholder with ?fallback=404', async () => {
    for (const id of ['11000000001', '11000000002']) {
      const res = await get(stack.url, `/avatar/${id}.webp?fallback=404`);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(errorOf(res).code).toBe('no_avatar');
      expect(res.headers['x-avatar-status']).toMatch(/^(no-avatar|not-on-whatsapp)$/);
    }
  });

  it('still serves a real avatar with ?fallback=404', async () => {
    stack.green.set('11000000004@c.us', { kind: 'avatar', url: await stack.images.add('bob') });
    const res = await get(stack.url, '/avatar/11000000004.webp?fallback=404');
    expect(res.status).toBe(200);
    expect(res.headers['x-avatar-status']).toBe('ok');
  });
});
