import * as reference from 'thumbhash';
import { rgbaToThumbHash, thumbHashToRGBA } from '../../src/images/thumbhash';

/** Pseudo-random RGBA pixels, the same on every run; `alpha` false makes them opaque. */
function pixels(w: number, h: number, seed: number, alpha: boolean): Uint8Array {
  const rgba = new Uint8Array(w * h * 4);
  let state = seed;
  for (let i = 0; i < rgba.length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    const smooth = ((i >> 2) % w) * 3 + Math.floor((i >> 2) / w) * 2;
    rgba[i] = i % 4 === 3 && !alpha ? 255 : (smooth + (state >>> 27)) & 0xff;
  }
  return rgba;
}

describe('ThumbHash', () => {
  // Square, landscape, portrait and thin pictures, opaque and translucent, as the picture info sees them.
  const sizes = [[32, 32], [32, 20], [19, 32], [32, 3], [1, 1], [100, 100]] as const;
  it.each(sizes.flatMap(([w, h]) => [[w, h, false], [w, h, true]] as const))(
    'gives the reference implementation\'s hash and pixels for %i x %i (alpha: %s)',
    (w, h, alpha) => {
      for (let seed = 1; seed <= 5; seed++) {
        const rgba = pixels(w, h, seed, alpha);
        const hash = rgbaToThumbHash(w, h, rgba);
        expect(Buffer.from(hash).equals(Buffer.from(reference.rgbaToThumbHash(w, h, rgba)))).toBe(true);
        const decoded = thumbHashToRGBA(hash);
        const expected = reference.thumbHashToRGBA(hash);
        expect([decoded.w, decoded.h]).toEqual([expected.w, expected.h]);
        expect(Buffer.from(decoded.rgba).equals(Buffer.from(expected.rgba))).toBe(true);
      }
    },
  );

  it('refuses pictures over 100 px a side, as the reference does', () => {
    expect(() => rgbaToThumbHash(101, 10, new Uint8Array(101 * 10 * 4))).toThrow("101x10 doesn't fit in 100x100");
  });
});
