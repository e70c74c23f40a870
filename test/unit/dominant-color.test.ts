import sharp from 'sharp';
import { dominantColor } from '../../src/images/picture-info';
import { photoLike } from '../../scripts/bench/photos';

/** Small RGBA pixels, as describeSquare describes. */
async function pixels(image: sharp.Sharp) {
  return image.resize(100, 100, { fit: 'inside' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
}

describe('dominantColor', () => {
  it('is the centre of the fullest 16-level bin: a flat colour, and the larger of two areas', async () => {
    const flat = await pixels(sharp({ create: { width: 64, height: 64, channels: 3, background: '#2e86de' } }));
    expect(dominantColor(flat.data)).toBe('#2888d8');
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="100" height="100" fill="#10f010"/><rect width="40" height="100" fill="#f01010"/></svg>`;
    expect(dominantColor((await pixels(sharp(Buffer.from(svg)))).data)).toBe('#18f818');
  });

  it("agrees with sharp's stats().dominant on photo-like pictures, to within one bin", async () => {
    for (const seed of [1, 2, 3, 4]) {
      const { data, info } = await pixels(sharp(await photoLike(seed)));
      const { dominant } = await sharp(data, { raw: info }).stats();
      const ours = [1, 3, 5].map((i) => parseInt(dominantColor(data).slice(i, i + 2), 16));
      [dominant.r, dominant.g, dominant.b].forEach((channel, i) => expect(Math.abs(ours[i]! - channel)).toBeLessThanOrEqual(16));
    }
  });

  it('ignores fully transparent pixels: a small logo on a transparent canvas gives the logo colour', async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><circle cx="50" cy="50" r="20" fill="#e74c3c"/></svg>`;
    const { data } = await pixels(sharp(Buffer.from(svg)));
    expect(dominantColor(data)).toBe('#e84838');
  });
});
