import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { encode } from '../images/render';
import { placeholderEtag } from './etag';
import type { Format } from './variant';

/** Muted backgrounds that keep a white silhouette readable. */
export const PALETTE = ['#5b7083', '#6d8b74', '#8a6f9e', '#b0775a', '#4f7cac', '#9c6b7d', '#7a8450', '#5f8f8f'] as const;

export interface PlaceholderImage {
  body: Buffer;
  etag: string;
}

export interface Placeholders {
  /** The placeholder for a chatId; drawn once per (colour, size, format), then served from memory. */
  get(chatId: string, size: number, format: Format): Promise<PlaceholderImage>;
}

export function paletteIndex(chatId: string): number {
  return createHash('sha1').update(chatId).digest()[0]! % PALETTE.length;
}

function silhouetteSvg(background: string): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">` +
      `<rect width="100" height="100" fill="${background}"/>` +
      `<g fill="#ffffff" fill-opacity="0.85">` +
      `<circle cx="50" cy="39" r="17"/>` +
      `<path d="M14 100 C14 74 30 62 50 62 C70 62 86 74 86 100 Z"/>` +
      `</g></svg>`,
  );
}

function draw(colour: number, size: number, format: Format): Promise<Buffer> {
  const svg = sharp(silhouetteSvg(PALETTE[colour]!), { density: Math.max(72, Math.ceil((72 * size) / 100)) }).resize(size, size);
  return encode(svg, format).toBuffer();
}

export function createPlaceholders(): Placeholders {
  // At most PALETTE x SIZES x FORMATS entries (320), so the map is bounded by construction.
  const drawn = new Map<string, Promise<PlaceholderImage>>();
  return {
    get(chatId, size, format) {
      const colour = paletteIndex(chatId);
      const key = `${colour}:${size}:${format}`;
      let image = drawn.get(key);
      if (!image) {
        image = draw(colour, size, format).then((body) => ({ body, etag: placeholderEtag(colour, size, format) }));
        image.catch(() => drawn.delete(key));
        drawn.set(key, image);
      }
      return image;
    },
  };
}
