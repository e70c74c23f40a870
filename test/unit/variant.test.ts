import { negotiateFormat, parseFormat, snapSize } from '../../src/avatar/variant';

describe('variants', () => {
  it('treats jpg and jpeg as one format, case-insensitively', () => {
    expect(parseFormat('jpg')).toBe('jpeg');
    expect(parseFormat('JPEG')).toBe('jpeg');
    expect(parseFormat('gif')).toBeUndefined();
  });

  it('snaps sizes up to the fixed set', () => {
    expect([1, 32, 33, 49, 65, 97, 129, 193, 257, 385, 513, 640].map(snapSize)).toEqual([
      32, 32, 48, 64, 96, 128, 192, 256, 384, 512, 640, 640,
    ]);
  });

  it.each([
    [undefined, 'jpeg'],
    ['*/*', 'jpeg'],
    ['image/*', 'jpeg'],
    ['image/webp', 'webp'],
    ['image/avif,image/webp,image/apng,image/*,*/*;q=0.8', 'avif'],
    ['image/avif;q=0,image/webp', 'webp'],
    ['IMAGE/WEBP', 'webp'],
    // q-values: the highest wins, ties by avif, webp, jpeg; wildcards count for JPEG only.
    ['image/avif;q=0.5, image/webp', 'webp'],
    ['image/avif;q=0.5, image/jpeg', 'jpeg'],
    ['image/avif;q=0.5', 'avif'],
    ['image/webp;q=0.9, image/avif;q=0.9', 'avif'],
    ['image/jpeg;q=0.1, image/webp;q=0.2', 'webp'],
    ['image/webp;q=0.5, */*', 'jpeg'],
  ])('Accept %j -> %s', (accept, format) => expect(negotiateFormat(accept)).toBe(format));
});
