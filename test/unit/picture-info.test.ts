import { createHash } from 'node:crypto';
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

/** A textured picture that is the same on every run (photoLike's grain is random): a PNG of a fixed pattern. */
function patterned(width: number, height: number): Promise<Buffer> {
  const rgb = Buffer.alloc(width * height * 3);
  let noise = 12345;
  for (let i = 0; i < rgb.length; i++) {
    noise = (noise * 1103515245 + 12345) >>> 0;
    const pixel = Math.floor(i / 3);
    rgb[i] = ((pixel % width) * (i % 3 === 0 ? 1 : 0) + Math.floor(pixel / width) * (i % 3) + (noise >>> 26)) & 0xff;
  }
  return sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

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

  it('stays what it was for the same picture: colour, ThumbHash and blur-up, whole and partial blocks, with alpha', async () => {
    const photo = await patterned(640, 480);
    const cases = [
      { source: photo, size: 128 },
      { source: await sharp(photo).resize(301, 187).png().toBuffer(), size: 100 },
      { source: await sharp(photo).resize(200, 200).ensureAlpha(0.5).png().toBuffer(), size: 128 },
      // 70 px: blocks of 3, and a last column and row of one pixel.
      { source: photo, size: 70 },
    ];
    const described = [];
    for (const { source, size } of cases) {
      const info = describeSquare(await decodeSquare(source, size, 1e8), { width: 1, height: 1 });
      described.push([info.color, info.thumbhash, createHash('sha256').update(info.placeholder).digest('hex').slice(0, 16)]);
    }
    expect(described).toEqual([
      ['#a868a8', 'IPgFDwaJLGWEd3h4dwd4WIiI+Eq4nY8F', '2cad0e5e3af54e66'],
      ['#a878c8', 'IQgGFwjIPzd5d3d6hxeHWIiOmR/I+XgD', 'c667c1bef56fa047'],
      ['#a868a8', 'H/iFDQQHiSyEh3gHWK+E2/lYeXiHiHcHdw==', '9702ab080bb3fa90'],
      ['#482838', '4PcFDwaKPXRzd3iJdwd3R4h4+Yh3jo8F', '76f5c8ede6f4515c'],
    ]);
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
