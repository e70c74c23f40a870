import { hash } from 'node:crypto';
import sharp from 'sharp';
import type { Format } from '../avatar/variant';
import { countJpegScans } from './jpeg-markers';
import { readSourceHeader } from './source-header';

/**
 * Bump when the pipeline's output changes: it is part of every ETag, so all cached copies downstream
 * (browsers, CDNs) revalidate and get the new rendering.
 */
export const PIPELINE_VERSION = 1;

/**
 * libvips's operation cache is off for the whole process (every sharp user imports this module): it reuses an
 * operation only when one is run again on the same input, and every render here has a source of its own, so
 * it only held up to 50 MB of decoded pixels nobody asks for again, and took a process-wide lock on every
 * operation (new variants: 6-15% more a second without it, same sources and settings, side by side).
 */
sharp.cache(false);

/** No real encoder writes more scans than this (libjpeg's and mozjpeg's scripts use about 10). */
export const MAX_JPEG_SCANS = 64;

export class InvalidImageError extends Error {
  override name = 'InvalidImageError';
}

export const sha256 = (bytes: Buffer): string => hash('sha256', bytes, 'hex');

/** A picture's size as displayed (EXIF orientation applied). */
export interface PictureSize {
  width: number;
  height: number;
}

/**
 * Checks a downloaded source from its header alone (sniffed bytes, not Content-Type): a real JPEG, PNG or
 * WebP within the pixel budget. A small file that claims a huge canvas is refused before it is decoded.
 */
export function inspectSource(bytes: Buffer, maxPixels: number): PictureSize {
  if (bytes.length === 0) throw new InvalidImageError('empty body');
  const header = readSourceHeader(bytes);
  if (!header) throw new InvalidImageError('not a decodable image');
  if ('unsupported' in header) throw new InvalidImageError(`unsupported source format ${header.unsupported}`);
  const pixels = header.width * header.height;
  if (pixels === 0 || pixels > maxPixels) {
    throw new InvalidImageError(`source is ${header.width}x${header.height}, over the ${maxPixels}-pixel limit`);
  }
  if (header.progressive) {
    const scans = countJpegScans(bytes);
    if (scans > MAX_JPEG_SCANS) throw new InvalidImageError(`progressive JPEG with ${scans} scans, over the limit of ${MAX_JPEG_SCANS}`);
  }
  // EXIF orientations 5-8 swap the sides.
  const swapped = header.orientation >= 5;
  return { width: swapped ? header.height : header.width, height: swapped ? header.width : header.height };
}

/** The encoder settings per format: small files, and AVIF at a speed-oriented effort. */
export function encode(pipeline: sharp.Sharp, format: Format): sharp.Sharp {
  switch (format) {
    case 'webp':
      return pipeline.webp({ quality: 80, effort: 4 });
    case 'avif':
      return pipeline.avif({ quality: 55, effort: 2 });
    case 'png':
      return pipeline.png({ compressionLevel: 6, adaptiveFiltering: false });
    case 'jpeg':
      // JPEG has no alpha: flatten onto white so transparent sources do not turn black.
      return pipeline.flatten({ background: '#ffffff' }).jpeg({ quality: 82, mozjpeg: true });
  }
}

/** A picture's centre square, decoded: the default variant is encoded from it and the picture's info described. */
export interface SquarePixels {
  data: Buffer;
  width: number;
  height: number;
  /** RGB, or RGBA when the source has alpha: sharp converts every output to sRGB, grey sources included. */
  channels: 3 | 4;
}

/**
 * A square size x size thumbnail: orient, cover-crop from the centre; metadata is not kept. sharp decodes a
 * JPEG straight at a fraction of its size when the thumbnail is smaller (shrink-on-load), so each variant costs
 * a fraction of a full decode; a scan bomb was refused before (see inspectSource).
 */
function square(source: Buffer, size: number, maxPixels: number): sharp.Sharp {
  return sharp(source, { limitInputPixels: maxPixels, failOn: 'error' })
    .autoOrient()
    .resize(size, size, { fit: 'cover', position: 'centre' });
}

async function rendering<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw new InvalidImageError(`cannot render source: ${(err as Error).message}`);
  }
}

/** A variant: the square thumbnail, encoded. */
export function renderVariant(source: Buffer, size: number, format: Format, maxPixels: number): Promise<Buffer> {
  return rendering(encode(square(source, size, maxPixels), format).toBuffer());
}

/** The square thumbnail's pixels, for a variant that is also described (see encodeSquare). */
export async function decodeSquare(source: Buffer, size: number, maxPixels: number): Promise<SquarePixels> {
  const { data, info } = await rendering(square(source, size, maxPixels).raw().toBuffer({ resolveWithObject: true }));
  return { data, width: info.width, height: info.height, channels: info.channels as 3 | 4 };
}

/**
 * Decoded pixels encoded as a variant. WebP and AVIF bytes are the same as renderVariant's (checked over JPEG,
 * CMYK, rotated, 16-bit, palette, grey and alpha sources); PNG and JPEG differ in the density they record only.
 */
export function encodeSquare({ data, width, height, channels }: SquarePixels, format: Format): Promise<Buffer> {
  return rendering(encode(sharp(data, { raw: { width, height, channels } }), format).toBuffer());
}
