import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { avatarUrl, canonicalTarget, sign } from '../../src/client';
import { makeOpaqueId } from '../../src/ids/opaque-id';
import { errorOf, get } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

const ID_KEY = 'test-id-key-0123456789abcdef-current';
const OLD_ID_KEY = 'test-id-key-0123456789abcdef-previous';
const SIGNING_KEY = 'test-signing-key-0123456789';
const root = path.resolve(__dirname, '../..');
const tsx = (script: string, args: string[], env: Record<string, string>) =>
  promisify(execFile)(path.join(root, 'node_modules/.bin/tsx'), [script, ...args], { cwd: root, env: { ...process.env, ...env } });

/** Everything a response shows: status line, headers and (for JSON) the body. */
const shown = (res: { status: number; headers: object; body: unknown }) =>
  `${res.status} ${JSON.stringify(res.headers)} ${Buffer.isBuffer(res.body) ? res.body.toString('latin1') : ''}`;

describe('opaque ids (ID_KEYS)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { ID_KEYS: `${ID_KEY},${OLD_ID_KEY}`, DEMO_PAGE: 'true', DEMO_CONTACTS: '11000000801,120363043968066561@g.us' } });
    for (const n of ['801', '802', '803', '804', '805']) stack.green.set(`11000000${n}@c.us`, { kind: 'avatar', url: await stack.images.add(`opaque-${n}`) });
  });
  afterAll(() => stack.close());

  it('an opaque URL serves the same picture and ETag as the plain one, in every URL form', async () => {
    const opaque = makeOpaqueId(ID_KEY, '11000000801@c.us');
    const plain = await get(stack.url, '/avatar/11000000801.webp?size=64');
    const viaToken = await get(stack.url, `/avatar/${opaque}.webp?size=64`);
    expect(viaToken.status).toBe(200);
    expect(viaToken.headers['x-avatar-status']).toBe('ok');
    expect(viaToken.headers.etag).toBe(plain.headers.etag);
    expect(Buffer.compare(viaToken.body as Buffer, plain.body as Buffer)).toBe(0);
    // No extension: the format from Accept.
    const negotiated = await get(stack.url, `/avatar/${opaque}?size=64`, { Accept: 'image/webp' });
    expect(negotiated.headers['content-type']).toBe('image/webp');
    expect(negotiated.headers.etag).toBe(plain.headers.etag);
    expect(stack.green.callsFor('11000000801@c.us')).toBe(1);
  });

  it('a token made with the previous key still works after rotation', async () => {
    const res = await get(stack.url, `/avatar/${makeOpaqueId(OLD_ID_KEY, '11000000802@c.us')}.png?size=32`);
    expect(res.status).toBe(200);
    expect(res.headers['x-avatar-status']).toBe('ok');
  });

  const good = makeOpaqueId(ID_KEY, '11000000803@c.us');
  const flip = (at: number) => good.slice(0, at) + (good[at] === 'A' ? 'B' : 'A') + good.slice(at + 1);
  it.each([
    ['a tampered token', flip(5)],
    ['a truncated token', good.slice(0, -3)],
    ['a token made with a foreign key', makeOpaqueId('a-foreign-key-0123456789abcdef0123456', '11000000803@c.us')],
    ['a token that is not base64url', `${good.slice(0, 10)}%2B%2F${good.slice(12)}`],
  ])('answers 404 unknown_id to %s, with no GetAvatar call', async (_name, id) => {
    for (const url of [`/avatar/${id}.webp`, `/avatar/${id}`, `/avatar/${id}.json`]) {
      const res = await get(stack.url, url);
      expect(res.status).toBe(404);
      expect(errorOf(res).code).toBe('unknown_id');
    }
    expect(stack.green.callsFor('11000000803@c.us')).toBe(0);
  });

  it('a bad format after a token is invalid_format, not unknown_id', async () => {
    const res = await get(stack.url, `/avatar/${good}.gif`);
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe('invalid_format');
  });

  it('the JSON info of an opaque request names the contact by its opaque id, and its URLs use opaque ids; no header, JSON or log line carries the number', async () => {
    const opaque = makeOpaqueId(ID_KEY, '11000000804@c.us');
    const json = await get(stack.url, `/avatar/${opaque}.json?size=64`);
    const image = await get(stack.url, `/avatar/${opaque}.webp?size=64`);
    expect(json.status).toBe(200);
    const info = JSON.parse((json.body as Buffer).toString('utf8')) as { chatId: string; status: string; urls: Record<string, string>; srcset: string };
    expect(info.chatId).toBe(opaque);
    expect(info.urls.webp).toBe(`/avatar/${opaque}.webp?size=64`);
    expect(info.srcset).toContain(`/avatar/${opaque}.webp?size=128 2x`);
    expect((await get(stack.url, info.urls.png!)).headers['x-avatar-status']).toBe('ok');
    for (const res of [json, image]) expect(shown(res)).not.toContain('11000000804');
    // The GetAvatar line and the request lines name it by its opaque id.
    const lines = JSON.stringify(stack.logs);
    expect(lines).toContain(opaque);
    expect(lines).not.toContain('11000000804');
  });

  it('the JSON info of a plain request hands out opaque URLs too', async () => {
    const json = await get(stack.url, '/avatar/11000000805.json');
    const info = JSON.parse((json.body as Buffer).toString('utf8')) as { urls: Record<string, string> };
    expect(info.urls.webp).toBe(`/avatar/${makeOpaqueId(ID_KEY, '11000000805@c.us')}.webp?size=128`);
  });

  it('the demo page and its lookup box use opaque ids (and the box takes a group chatId as typed)', async () => {
    const page = (await get(stack.url, '/')).body.toString('utf8');
    expect(page).toContain(`/avatar/${makeOpaqueId(ID_KEY, '11000000801@c.us')}.webp?size=96`);
    expect(page).toContain(`/avatar/${makeOpaqueId(ID_KEY, '120363043968066561@g.us')}.webp?size=96`);
    expect(page).not.toMatch(/\/avatar\/(11000000801|120363043968066561)/);
    const lookup = await get(stack.url, '/demo/urls?id=120363043968066561%40g.us');
    expect(lookup.status).toBe(200);
    const urls = JSON.parse(lookup.body.toString('utf8')) as { chatId: string; image: string };
    expect(urls.chatId).toBe('120363043968066561@g.us');
    expect(urls.image).toBe(`/avatar/${makeOpaqueId(ID_KEY, '120363043968066561@g.us')}.webp?size=128`);
  });

  it('`npm run id` prints the test vector, and reads an id back with --decode', async () => {
    const vector = await tsx('scripts/id.ts', ['11001234567', '--key', 'example-id-key-0123456789abcdef0123'], {});
    expect(vector.stdout).toBe('/avatar/p-5l2HnU4FkTZKwzr8Ec_W_dZ7oiGg8Jwd7UUK0w-Sdks\n');
    const made = await tsx('scripts/id.ts', ['120363043968066561@g.us'], { ID_KEYS: `${ID_KEY},${OLD_ID_KEY}` });
    expect(made.stdout.trim()).toBe(`/avatar/${makeOpaqueId(ID_KEY, '120363043968066561@g.us')}`);
    const decoded = await tsx('scripts/id.ts', ['--decode', makeOpaqueId(OLD_ID_KEY, '11001234567@c.us')], { ID_KEYS: `${ID_KEY},${OLD_ID_KEY}` });
    expect(decoded.stdout).toBe('11001234567@c.us\n');
    await expect(tsx('scripts/id.ts', ['--decode', 'p-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'], { ID_KEYS: ID_KEY })).rejects.toMatchObject({ code: 1 });
  });
});

describe('opaque ids with signing and PUBLIC_IDS=opaque', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { ID_KEYS: ID_KEY, PUBLIC_IDS: 'opaque', SIGNING_KEY } });
    stack.green.set('11000000811@c.us', { kind: 'avatar', url: await stack.images.add('opaque-811') });
  });
  afterAll(() => stack.close());

  it.each([
    ['a number', '/avatar/11000000812.webp'],
    ['a chatId', '/avatar/11000000812@c.us.png'],
    ['a number without extension', '/avatar/11000000812'],
    ['the JSON of a number', '/avatar/11000000812.json'],
  ])('refuses %s before any upstream call (400 opaque_id_required)', async (_name, url) => {
    const file = url.slice('/avatar/'.length);
    const signed = `${url}?sig=${sign(SIGNING_KEY, canonicalTarget(file, new URLSearchParams()))}`;
    const res = await get(stack.url, signed);
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe('opaque_id_required');
    expect(stack.green.callsFor('11000000812@c.us')).toBe(0);
  });

  it('serves signed opaque URLs made by the helper and by `npm run sign`, and refuses an unsigned one', async () => {
    const url = avatarUrl('', '11000000811', { idKey: ID_KEY, key: SIGNING_KEY, format: 'webp', size: 48 });
    expect(url).not.toContain('11000000811');
    const res = await get(stack.url, url);
    expect(res.status).toBe(200);
    expect(res.headers['x-avatar-status']).toBe('ok');
    expect(shown(res)).not.toContain('11000000811');
    expect((await get(stack.url, url.replace(/[?&]sig=.*/, ''))).status).toBe(403);
    const { stdout } = await tsx('scripts/sign.ts', ['11000000811', '--size', '48', '--format', 'webp'], { SIGNING_KEY, ID_KEYS: ID_KEY });
    expect(stdout.trim()).toBe(url);
  });
});
