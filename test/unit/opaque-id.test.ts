import { avatarSrcSet, avatarUrl, opaqueIdOf } from '../../src/client';
import { createOpaqueIds, makeOpaqueId } from '../../src/ids/opaque-id';
import { createPublicIds } from '../../src/ids/public-id';

// The README's test vector: what a PHP, Python or Go back end checks its own implementation against.
const VECTOR_KEY = 'example-id-key-0123456789abcdef0123';
const VECTOR_ID = 'p-5l2HnU4FkTZKwzr8Ec_W_dZ7oiGg8Jwd7UUK0w-Sdks';
const OLD_KEY = 'an-older-id-key-that-was-rotated-out-0001';

describe('opaque ids', () => {
  it('makes the test vector', () => {
    expect(makeOpaqueId(VECTOR_KEY, '11001234567@c.us')).toBe(VECTOR_ID);
    expect(createOpaqueIds([VECTOR_KEY]).encode('11001234567@c.us')).toBe(VECTOR_ID);
  });

  it('reads back every id form, with the first key or an older one', () => {
    const ids = createOpaqueIds([VECTOR_KEY, OLD_KEY]);
    for (const chatId of ['11001234567@c.us', '120363043968066561@g.us', '11001234567-1600000000@g.us', '123456789012345@lid']) {
      expect(ids.decode(ids.encode(chatId))).toBe(chatId);
      expect(ids.decode(makeOpaqueId(OLD_KEY, chatId))).toBe(chatId);
    }
  });

  it('is the same for the same contact and different for another', () => {
    const ids = createOpaqueIds([VECTOR_KEY]);
    expect(ids.encode('11001234567@c.us')).toBe(ids.encode('11001234567@c.us'));
    expect(ids.encode('11001234568@c.us')).not.toBe(ids.encode('11001234567@c.us'));
  });

  const flip = (id: string, at: number) => id.slice(0, at) + (id[at] === 'A' ? 'B' : 'A') + id.slice(at + 1);
  it.each([
    ['a flipped iv character', flip(VECTOR_ID, 4)],
    ['a flipped ciphertext character', flip(VECTOR_ID, VECTOR_ID.length - 3)],
    ['a truncated token', VECTOR_ID.slice(0, -2)],
    ['a token with a character more', `${VECTOR_ID}A`],
    ['a token made with another key', makeOpaqueId('a-foreign-key-0123456789abcdef0123456', '11001234567@c.us')],
    ['a token that is not base64url', 'p-5l2HnU4FkTZKwzr8Ec/W+dZ7oiGg8Jwd7UUK0w=Sdks'],
    ['an empty token', 'p-'],
    ['only an iv', `p-${'A'.repeat(22)}`],
    ['an overlong token', `p-${'A'.repeat(200)}`],
  ])('refuses %s', (_name, id) => {
    expect(createOpaqueIds([VECTOR_KEY]).decode(id)).toBeUndefined();
  });

  it('public ids: an unknown token is 404 unknown_id; a plain id with PUBLIC_IDS=opaque is 400 opaque_id_required', () => {
    const opaqueIds = createOpaqueIds([VECTOR_KEY]);
    const any = createPublicIds({ opaqueIds, opaqueOnly: false });
    expect(any.read(VECTOR_ID)).toBe('11001234567@c.us');
    expect(any.read('11001234567')).toBe('11001234567@c.us');
    expect(any.urlId('11001234567@c.us')).toBe(VECTOR_ID);
    expect(() => any.read(flip(VECTOR_ID, 4))).toThrow(expect.objectContaining({ statusCode: 404, code: 'unknown_id' }));
    // Made with the key, but from an id the service would have normalised (digits without @c.us): no URL it hands out.
    expect(() => any.read(makeOpaqueId(VECTOR_KEY, '11001234567'))).toThrow(expect.objectContaining({ code: 'unknown_id' }));
    const opaqueOnly = createPublicIds({ opaqueIds, opaqueOnly: true });
    expect(() => opaqueOnly.read('11001234567')).toThrow(expect.objectContaining({ statusCode: 400, code: 'opaque_id_required' }));
    expect(opaqueOnly.read(VECTOR_ID)).toBe('11001234567@c.us');
    expect(createPublicIds({ opaqueOnly: false }).urlId('11001234567@c.us')).toBe('11001234567');
  });

  it('the client helper names contacts by opaque id with idKey, from any id form', () => {
    expect(opaqueIdOf(VECTOR_KEY, '11001234567')).toBe(VECTOR_ID);
    expect(opaqueIdOf(VECTOR_KEY, '11001234567@c.us')).toBe(VECTOR_ID);
    expect(avatarUrl('https://avatars.example.com', '11001234567', { idKey: VECTOR_KEY, format: 'webp', size: 64 })).toBe(
      `https://avatars.example.com/avatar/${VECTOR_ID}.webp?size=64`,
    );
    expect(avatarSrcSet('', '11001234567', { idKey: VECTOR_KEY, size: 64 })).not.toContain('11001234567');
    expect(() => avatarUrl('', 'not a number', { idKey: VECTOR_KEY })).toThrow(TypeError);
  });
});
