import sharp from 'sharp';
import { encodePng, shrinkToRgba } from '../../src/images/tiny-png';

/** A 16 x 9 gradient, opaque or with an alpha ramp. */
function gradient(withAlpha: boolean): Uint8Array {
  const rgba = new Uint8Array(16 * 9 * 4);
  for (let y = 0; y < 9; y++) {
    for (let x = 0; x < 16; x++) rgba.set([x * 16, y * 28, 255 - x * 8, withAlpha ? x * 17 : 255], (y * 16 + x) * 4);
  }
  return rgba;
}

describe('encodePng', () => {
  it.each([
    ['opaque pixels as an RGB PNG', false, 3],
    ['translucent pixels as an RGBA PNG', true, 4],
  ])('writes %s that decoders read back exactly', async (_name, withAlpha, channels) => {
    const rgba = gradient(withAlpha);
    const png = encodePng(rgba, 16, 9);
    const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ width: 16, height: 9, channels: 4 });
    expect((await sharp(png).metadata()).channels).toBe(channels);
    expect(Buffer.from(data).equals(Buffer.from(rgba))).toBe(true);
  });
});

describe('shrinkToRgba', () => {
  it('averages blocks until no side exceeds the limit, and leaves small images alone', () => {
    const rgba = new Uint8Array(4 * 2 * 4);
    [0, 100, 200, 50, 10, 10, 10, 10].forEach((v, i) => rgba.set([v, v, v, 255], i * 4));
    const half = shrinkToRgba(rgba, 4, 2, 4, 2);
    expect([half.width, half.height]).toEqual([2, 1]);
    expect(Array.from(half.rgba)).toEqual([30, 30, 30, 255, 68, 68, 68, 255]);
    expect(shrinkToRgba(rgba, 4, 2, 4, 4).rgba).toBe(rgba);
  });

  it('makes RGB opaque RGBA, shrunk or not, and averages a partial last block over its own pixels', () => {
    const rgb = Uint8Array.from([0, 0, 0, 30, 30, 30, 90, 90, 90]);
    expect(Array.from(shrinkToRgba(rgb, 3, 1, 3, 3).rgba)).toEqual([0, 0, 0, 255, 30, 30, 30, 255, 90, 90, 90, 255]);
    const halved = shrinkToRgba(rgb, 3, 1, 3, 2);
    expect([halved.width, halved.height]).toEqual([2, 1]);
    expect(Array.from(halved.rgba)).toEqual([15, 15, 15, 255, 90, 90, 90, 255]);
  });
});
