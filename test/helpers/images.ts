import { crc32 } from 'node:zlib';
import sharp from 'sharp';

/** A valid, tiny PNG whose header claims width x height pixels: an image bomb for the decoder. */
export async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await sharp({ create: { width: 1, height: 1, channels: 3, background: '#888' } }).png().toBuffer());
  // IHDR data starts at byte 16 (8 signature + 4 length + 4 type); its CRC covers type + data (bytes 12..28).
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** A real JPEG that does not compress: about 1 MB of noise at 1200 x 1200. */
export function noisyJpeg(side = 1200): Promise<Buffer> {
  return sharp({ create: { width: side, height: side, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
    .jpeg({ quality: 95 })
    .toBuffer();
}

/**
 * A progressive JPEG "scan bomb": a real side x side progressive JPEG whose last scan is repeated until it
 * has `scans` scans. Small on the wire, and a decoder that accepts it makes one full pass per scan.
 */
export async function jpegScanBomb(side: number, scans: number): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: side, height: side, channels: 3, background: '#808080' } }).jpeg({ progressive: true, quality: 50 }).toBuffer();
  const starts: number[] = [];
  for (let i = 2; i < jpeg.length - 1; i++) if (jpeg[i] === 0xff && jpeg[i + 1] === 0xda) starts.push(i);
  const eoi = jpeg.length - 2;
  const lastScan = jpeg.subarray(starts[starts.length - 1]!, eoi);
  const extra = Array.from({ length: scans - starts.length }, () => lastScan);
  return Buffer.concat([jpeg.subarray(0, eoi), ...extra, jpeg.subarray(eoi)]);
}
