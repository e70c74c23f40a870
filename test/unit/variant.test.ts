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
  ])('Accept %j -> %s', (accept, format) => expect(negotiateFormat(accept)).toBe(format));
});
