import sharp from 'sharp';
import { readSourceHeader } from '../../src/images/source-header';
import { inspectSource, InvalidImageError } from '../../src/images/render';
import { pngClaiming } from '../helpers/images';
import { makeJpeg } from '../fakes/image-host';

const picture = (width: number, height: number, alpha = false) =>
  sharp({ create: { width, height, channels: alpha ? 4 : 3, background: { r: 200, g: 90, b: 40, alpha: 0.6 } } });

/** Sources as cameras, phones and encoders write them: every format, with and without EXIF orientation. */
async function sources(): Promise<[name: string, bytes: Buffer][]> {
  const made: [string, Buffer][] = [
    ['baseline JPEG', await picture(300, 200).jpeg().toBuffer()],
    ['progressive JPEG', await picture(300, 200).jpeg({ progressive: true }).toBuffer()],
    ['mozjpeg JPEG', await picture(301, 199).jpeg({ mozjpeg: true }).toBuffer()],
    ['CMYK JPEG', await picture(64, 48).toColourspace('cmyk').jpeg().toBuffer()],
    ['grey JPEG with an ICC profile', await picture(50, 70).greyscale().jpeg().withIccProfile('srgb').toBuffer()],
    ['the fakes\' JPEG', await makeJpeg(5)],
    ['RGB PNG', await picture(300, 200).png().toBuffer()],
    ['palette PNG', await picture(33, 17, true).png({ palette: true }).toBuffer()],
    ['16-bit PNG', await picture(40, 30).toColourspace('rgb16').png().toBuffer()],
    ['lossy WebP', await picture(300, 200).webp().toBuffer()],
    ['lossy WebP with alpha', await picture(300, 200, true).webp().toBuffer()],
    ['lossless WebP', await picture(123, 45).webp({ lossless: true }).toBuffer()],
    ['animated WebP', await sharp({ create: { width: 20, height: 10, channels: 3, background: '#123' } }).webp({ loop: 0 }).toBuffer()],
  ];
  for (const orientation of [1, 2, 3, 4, 5, 6, 7, 8]) {
    made.push([`JPEG, orientation ${orientation}`, await picture(300, 200).jpeg().withMetadata({ orientation }).toBuffer()]);
    made.push([`PNG, orientation ${orientation}`, await picture(300, 200).png().withMetadata({ orientation }).toBuffer()]);
    made.push([`WebP, orientation ${orientation}`, await picture(300, 200).webp().withMetadata({ orientation }).toBuffer()]);
  }
  return made;
}

describe('reading a source header without decoding it', () => {
  it('agrees with sharp on format, size, orientation and progressive scans, over JPEG, PNG and WebP', async () => {
    for (const [name, bytes] of await sources()) {
      const meta = await sharp(bytes).metadata();
      expect([name, readSourceHeader(bytes)]).toEqual([
        name,
        { format: meta.format, width: meta.width, height: meta.height, orientation: meta.orientation ?? 1, progressive: meta.format === 'jpeg' && meta.isProgressive === true },
      ]);
    }
  });

  it('names formats it refuses, and knows nothing of text or noise', async () => {
    const tiny = picture(8, 8);
    expect(readSourceHeader(await tiny.clone().gif().toBuffer())).toEqual({ unsupported: 'gif' });
    expect(readSourceHeader(await tiny.clone().tiff().toBuffer())).toEqual({ unsupported: 'tiff' });
    expect(readSourceHeader(await tiny.clone().avif().toBuffer())).toEqual({ unsupported: 'heif' });
    expect(readSourceHeader(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>'))).toEqual({ unsupported: 'svg' });
    expect(readSourceHeader(Buffer.from('<html><body>502 Bad Gateway</body></html>'))).toBeUndefined();
    expect(readSourceHeader(Buffer.alloc(0))).toBeUndefined();
  });

  it('never throws or reads past the end: every truncation and single-byte corruption of every header', async () => {
    for (const [, bytes] of await sources()) {
      const head = bytes.subarray(0, Math.min(bytes.length, 400));
      for (let length = 0; length <= head.length; length++) expect(() => readSourceHeader(head.subarray(0, length))).not.toThrow();
      for (let at = 0; at < head.length; at++) {
        for (const value of [0x00, 0xff, 0x7f]) {
          const corrupt = Buffer.from(head);
          corrupt[at] = value;
          expect(() => readSourceHeader(corrupt)).not.toThrow();
        }
      }
    }
  });

  it('refuses by the header what sharp would refuse, before any decoding', async () => {
    const refusal = (bytes: Buffer, maxPixels = 1e8) => {
      try {
        inspectSource(bytes, maxPixels);
        return 'accepted';
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidImageError);
        return (err as Error).message;
      }
    };
    expect(refusal(await pngClaiming(30_000, 30_000), 16_777_216)).toBe('source is 30000x30000, over the 16777216-pixel limit');
    expect(refusal(await picture(300, 200).webp().toBuffer(), 300 * 200 - 1)).toBe('source is 300x200, over the 59999-pixel limit');
    expect(refusal(await picture(300, 200).webp().toBuffer(), 300 * 200)).toBe('accepted');
    expect(refusal(Buffer.alloc(0))).toBe('empty body');
    expect(refusal(Buffer.from('<html></html>'))).toBe('not a decodable image');
    expect(refusal(await picture(8, 8).gif().toBuffer())).toBe('unsupported source format gif');
  });

  it('reports the size as displayed: orientations 5 to 8 swap the sides', async () => {
    for (const orientation of [1, 4, 5, 8]) {
      const size = inspectSource(await picture(300, 200).jpeg().withMetadata({ orientation }).toBuffer(), 1e8);
      expect(size).toEqual(orientation >= 5 ? { width: 200, height: 300 } : { width: 300, height: 200 });
    }
  });
});
