import request from 'supertest';
import sharp from 'sharp';
import { thumbHashToRGBA } from 'thumbhash';
import { createKeys } from '../../src/avatar/keys';
import { avatarUrl } from '../../src/client';
import { eventually, startStack, type Stack } from '../helpers/stack';
import { get } from '../helpers/http';

const ADMIN = 'admin-token-0123456789abcdef';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { NEGATIVE_TTL_SECONDS: '600', ADMIN_TOKEN: ADMIN } });
});
afterAll(() => stack.close());

const json = (path: string, headers: Record<string, string> = {}) => request(stack.url).get(path).set(headers);

/** A real photo-like JPEG: a red-dominant gradient. */
async function redPicture(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="640"><rect width="640" height="640" fill="#c0392b"/><circle cx="320" cy="260" r="120" fill="#f5d0c5"/></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer();
}

describe('GET /avatar/:id.json', () => {
  it('for a picture: dominant colour, ThumbHash and its blur-up placeholder, the ETag of the image, URLs and srcset', async () => {
    stack.green.set('11008000001@c.us', { kind: 'avatar', url: await stack.images.add('json-red', { bytes: await redPicture() }) });
    const res = await json('/avatar/11008000001.json?size=96');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = res.body as Record<string, unknown>;
    expect(body).toMatchObject({ chatId: '11008000001@c.us', status: 'ok', width: 96, height: 96 });
    expect(body.color).toMatch(/^#[0-9a-f]{6}$/);
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(String(body.color).slice(i, i + 2), 16));
    expect(r!).toBeGreaterThan(150);
    expect(g!).toBeLessThan(100);
    expect(b!).toBeLessThan(100);

    // The ThumbHash decodes to a reddish image; the placeholder is a PNG data URI under 1 KB.
    const hash = Buffer.from(String(body.thumbhash), 'base64');
    const decoded = thumbHashToRGBA(new Uint8Array(hash));
    expect(decoded.rgba[0]!).toBeGreaterThan(decoded.rgba[1]!);
    expect(body.placeholder).toMatch(/^data:image\/png;base64,/);
    expect(String(body.placeholder).length).toBeLessThan(1024);
    const png = Buffer.from(String(body.placeholder).split(',')[1]!, 'base64');
    expect(await sharp(png).metadata()).toMatchObject({ format: 'png' });

    // The etag is the image's, at this size in the default format; the urls give every format.
    const image = await get(stack.url, '/avatar/11008000001.webp?size=96');
    expect(body.etag).toBe(image.headers['etag']);
    expect(body.urls).toEqual({
      webp: '/avatar/11008000001.webp?size=96',
      avif: '/avatar/11008000001.avif?size=96',
      png: '/avatar/11008000001.png?size=96',
      jpg: '/avatar/11008000001.jpg?size=96',
    });
    expect(body.srcset).toBe('/avatar/11008000001.webp?size=96 1x, /avatar/11008000001.webp?size=192 2x, /avatar/11008000001.webp?size=384 3x');
    expect(Date.parse(String(body.updatedAt))).toBeGreaterThan(Date.now() - 60_000);
    expect(stack.green.callsFor('11008000001@c.us')).toBe(1);
  });

  it('has its own ETag and Cache-Control, answers 304, and is computed once per picture by the worker', async () => {
    const first = await json('/avatar/11008000001.json?size=96');
    expect(first.headers['etag']).toMatch(/^"j/);
    expect(first.headers['cache-control']).toMatch(/^public, max-age=\d+, stale-while-revalidate=/);
    expect(first.headers['access-control-allow-origin']).toBe('*');
    const again = await json('/avatar/11008000001.json?size=96', { 'If-None-Match': first.headers['etag']! });
    expect(again.status).toBe(304);
    const keys = await stack.redis.keys(`${stack.config.redis.keyPrefix}:info:*`);
    expect(keys.length).toBeGreaterThanOrEqual(1);
  });

  it('for a picture stored before pictures had info: computed at its next refresh from the stored source, no download', async () => {
    const chatId = '11008000010@c.us';
    stack.green.set(chatId, { kind: 'avatar', url: await stack.images.add('stored-before-info', { bytes: await redPicture() }) });
    expect((await get(stack.url, '/avatar/11008000010.webp')).status).toBe(200);
    const keys = createKeys(stack.config.redis.keyPrefix);
    await stack.redis.del(keys.info((await stack.redis.hget(keys.meta(chatId), 'hash'))!));

    const auth = { Authorization: `Bearer ${ADMIN}` };
    const warm = await request(stack.url).post('/v1/warm').set(auth).send({ chatIds: ['11008000010'], force: true });
    await eventually(async () => (await request(stack.url).get(`/v1/warm/${warm.body.batchId}`).set(auth)).body.pending === 0, 10_000, 100);

    const res = await json('/avatar/11008000010.json');
    expect(res.body.status).toBe('ok');
    expect(res.body.thumbhash).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(res.body.placeholder).toMatch(/^data:image\/png;base64,/);
    expect(stack.green.callsFor(chatId)).toBe(2);
    expect(stack.images.downloads('stored-before-info')).toBe(1);
  });

  it.each([
    ['no-avatar', '11008000002', { kind: 'no-avatar' } as const],
    ['not-on-whatsapp', '11008000003', { kind: 'not-on-whatsapp' } as const],
    ['private', '11008000004', { kind: 'hidden', generation: 'available' } as const],
  ])('for %s: the placeholder colour and image, no ThumbHash', async (status, id, behaviour) => {
    stack.green.set(`${id}@c.us`, behaviour);
    const res = await json(`/avatar/${id}.json`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status, thumbhash: null, width: 128, height: 128 });
    expect(res.body.color).toMatch(/^#[0-9a-f]{6}$/);
    expect(res.body.placeholder).toMatch(/^data:image\/png;base64,/);
    expect(String(res.body.placeholder).length).toBeLessThan(1024);
    const image = await get(stack.url, `/avatar/${id}.webp`);
    expect(res.body.etag).toBe(image.headers['etag']);
    expect(res.headers['cache-control']).toMatch(/^public, max-age=/);
  });

  it('for a lookup still pending: status pending, no-store', async () => {
    stack.green.set('11008000005@c.us', { kind: 'no-avatar' }, 5000);
    const fast = await startStack({ env: { MISS_WAIT_MS: '50' } });
    try {
      fast.green.set('11008000005@c.us', { kind: 'no-avatar' }, 2000);
      const res = await request(fast.url).get('/avatar/11008000005.json');
      expect(res.body).toMatchObject({ status: 'pending', updatedAt: null, thumbhash: null });
      expect(res.headers['cache-control']).toBe('no-store');
    } finally {
      await fast.close();
    }
  });

  it('refuses bad ids and unknown parameters like the image route', async () => {
    expect((await json('/avatar/123.json')).body.error.code).toBe('invalid_chat_id');
    expect((await json('/avatar/11008000001.json?format=png')).body.error.code).toBe('invalid_query');
    expect((await json('/avatar/11008000001.json?size=0')).body.error.code).toBe('invalid_size');
  });

  it('with SIGNING_KEY: needs a valid sig, and hands out signed image URLs', async () => {
    const key = 'signing-key-0123456789abcdef';
    const signed = await startStack({ env: { SIGNING_KEY: key } });
    try {
      signed.green.set('11008000006@c.us', { kind: 'no-avatar' });
      expect((await request(signed.url).get('/avatar/11008000006.json')).status).toBe(403);
      const path = avatarUrl('', '11008000006', { format: 'json', key });
      const res = await request(signed.url).get(path);
      expect(res.status).toBe(200);
      for (const url of Object.values(res.body.urls as Record<string, string>)) {
        expect(url).toMatch(/[?&]sig=/);
        expect((await get(signed.url, url)).status).toBe(200);
      }
    } finally {
      await signed.close();
    }
  });
});
