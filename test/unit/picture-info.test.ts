import sharp from 'sharp';
import { describeSquare } from '../../src/images/picture-info';
import { decodeSquare, encodeSquare, renderVariant } from '../../src/images/render';
import { photoLike } from '../../scripts/bench/photos';

/** A flat picture in the given colour space, as a source would arrive. */
const flat = (colourspace: 'b-w' | 'srgb', alpha: boolean) =>
  sharp({ create: { width: 200, height: 120, channels: alpha ? 4 : 3, background: { r: 90, g: 90, b: 90, alpha: 1 } } })
    .toColourspace(colourspace)
    .png()
    .toBuffer();

describe('picture info from the pixels of the default variant', () => {
  it('is the same for grey, grey + alpha, RGB and RGBA sources of one picture', async () => {
    const sources = await Promise.all([flat('b-w', false), flat('b-w', true), flat('srgb', false), flat('srgb', true)]);
    const squares = await Promise.all(sources.map((source) => decodeSquare(source, 128, 1e8)));
    // Grey sources arrive as RGB: sharp converts its output to sRGB.
    expect(squares.map((s) => s.channels)).toEqual([3, 4, 3, 4]);
    const infos = squares.map((square) => describeSquare(square, { width: 200, height: 120 }));
    expect(new Set(infos.map((info) => JSON.stringify(info))).size).toBe(1);
    expect(infos[0]).toMatchObject({ color: '#585858', width: 200, height: 120 });
  });
});

describe('the default variant, encoded from the pixels its info is described from', () => {
  it('is byte for byte the variant rendered in one go, in WebP and AVIF: same bytes under the same ETag', async () => {
    const photo = await photoLike(3);
    const sources = [photo, await sharp(photo).resize(640, 400).jpeg().withMetadata({ orientation: 6 }).toBuffer(), await flat('srgb', true), await flat('b-w', false)];
    for (const source of sources) {
      for (const format of ['webp', 'avif'] as const) {
        const inOneGo = await renderVariant(source, 128, format, 1e8);
        expect((await encodeSquare(await decodeSquare(source, 128, 1e8), format)).equals(inOneGo)).toBe(true);
      }
    }
  });
});
