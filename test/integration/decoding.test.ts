import sharp from 'sharp';
import { startStack, type Stack } from '../helpers/stack';
import { get } from '../helpers/http';
import { createKeys } from '../../src/avatar/keys';
import { sha256 } from '../../src/images/render';
import { pngClaiming } from '../helpers/images';
import { makeJpeg } from '../fakes/image-host';

let stack: Stack;
let n = 0;

async function avatarFrom(bytes: Buffer, contentType = 'image/jpeg') {
  const id = `1100002${String(++n).padStart(4, '0')}`;
  stack.green.set(`${id}@c.us`, { kind: 'avatar', url: await stack.images.add(`src${n}`, { bytes, contentType }) });
  return get(stack.url, `/avatar/${id}.webp`);
}

beforeAll(async () => {
  stack = await startStack({ env: { MAX_SOURCE_PIXELS: String(4096 * 4096) } });
});
afterAll(() => stack.close());

describe('decoding sources (image bombs, junk)', () => {
  it('refuses a tiny file that claims 30000 x 30000 pixels before decoding it, in bounded memory', async () => {
    const bomb = await pngClaiming(30_000, 30_000);
    expect(bomb.length).toBeLessThan(200);
    const rssBefore = process.memoryUsage().rss;
    const res = await avatarFrom(bomb, 'image/png');
    const grown = process.memoryUsage().rss - rssBefore;
    expect(res.headers['x-avatar-status']).toBe('error');
    // Decoding it would need 30000 * 30000 * 3 bytes = 2.7 GB.
    expect(grown).toBeLessThan(100 * 1024 * 1024);
    expect(stack.logs.some((l) => /over the 16777216-pixel limit/.test(String(l.err)))).toBe(true);
  });

  it.each([
    ['an empty body', Buffer.alloc(0), /empty body/],
    ['an HTML error page served as image/jpeg', Buffer.from('<html><body>502 Bad Gateway</body></html>'), /not a decodable image/],
    ['random bytes', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)), /not a decodable image/],
  ])('refuses %s with a logged reason', async (_name, bytes, reason) => {
    const res = await avatarFrom(bytes);
    expect(res.headers['x-avatar-status']).toBe('error');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(stack.logs.some((l) => l.msg === 'job failed' && reason.test(String(l.err)))).toBe(true);
  });

  it('refuses a truncated JPEG, and does not keep its source', async () => {
    const jpeg = await makeJpeg(7);
    const truncated = jpeg.subarray(0, Math.floor(jpeg.length / 2));
    const res = await avatarFrom(truncated);
    expect(res.headers['x-avatar-status']).toBe('error');
    expect(stack.logs.some((l) => l.msg === 'job failed' && /cannot render source/.test(String(l.err)))).toBe(true);
    expect(await stack.redis.exists(createKeys(stack.config.redis.keyPrefix).source(sha256(truncated)))).toBe(0);
  });

  it.each([
    ['GIF', () => sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).gif().toBuffer()],
    ['TIFF', () => sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).tiff().toBuffer()],
    ['SVG', async () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>')],
  ])('refuses a %s source: only JPEG, PNG and WebP are decoded', async (_name, make) => {
    const res = await avatarFrom(await make());
    expect(res.headers['x-avatar-status']).toBe('error');
  });

  it.each([
    ['PNG', () => sharp({ create: { width: 300, height: 200, channels: 4, background: '#0a0c' } }).png().toBuffer(), 'image/png'],
    ['WebP', () => sharp({ create: { width: 300, height: 200, channels: 3, background: '#00a' } }).webp().toBuffer(), 'image/webp'],
    ['JPEG labelled as text/html', () => makeJpeg(9), 'text/html'],
  ])('accepts a %s source, sniffed from its bytes, and keeps working after the bad ones', async (_name, make, contentType) => {
    const res = await avatarFrom(await make(), contentType);
    expect(res.headers['x-avatar-status']).toBe('ok');
    expect(await sharp(res.body as Buffer).metadata()).toMatchObject({ width: 128, height: 128 });
  });
});
