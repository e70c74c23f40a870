import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import sharp from 'sharp';
import { encode } from '../images/render';
import { placeholderEtag } from './etag';
import type { Format } from './variant';

/** Muted backgrounds that keep a white silhouette or white letters readable. */
export const PALETTE = ['#5b7083', '#6d8b74', '#8a6f9e', '#b0775a', '#4f7cac', '#9c6b7d', '#7a8450', '#5f8f8f'] as const;

/** What to draw for a contact with no picture to show (`?d=`): the silhouette, its initials, or the colour alone. */
export type PlaceholderStyle = { kind: 'mp' } | { kind: 'blank' } | { kind: 'initials'; letters: string };

export const SILHOUETTE: PlaceholderStyle = { kind: 'mp' };

export interface PlaceholderImage {
  body: Buffer;
  etag: string;
}

export interface Placeholders {
  /** The placeholder for a chatId; drawn once per (style, letters, colour, size, format), then served from memory. */
  get(chatId: string, size: number, format: Format, style?: PlaceholderStyle): Promise<PlaceholderImage>;
}

export function paletteIndex(chatId: string): number {
  return hash('sha1', chatId, 'buffer')[0]! % PALETTE.length;
}

/** A contact's placeholder background colour, `#rrggbb`. */
export const placeholderColour = (chatId: string): string => PALETTE[paletteIndex(chatId)]!;

/**
 * The font for initials ships with the package (DejaVu Sans Bold: Latin, Cyrillic, Greek and more), handed
 * to sharp/Pango as a file: Docker images and CI machines have no system fonts.
 */
const FONT_FILE = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf');
const FONT_FAMILY = 'DejaVu Sans Bold';

/** Letters drawn at this share of the placeholder's side. */
const LETTER_SCALE = 0.4;
/** Distinct initials kept drawn in memory (silhouettes and blanks are bounded by the palette). */
const MAX_INITIALS_DRAWN = 2000;

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

const escapeMarkup = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function background(colour: number, size: number): sharp.Sharp {
  return sharp({ create: { width: size, height: size, channels: 3, background: PALETTE[colour]! } });
}

async function drawInitials(colour: number, size: number, letters: string): Promise<sharp.Sharp> {
  const points = Math.max(6, Math.round(size * LETTER_SCALE));
  const text = await sharp({
    text: { text: `<span foreground="#ffffff">${escapeMarkup(letters)}</span>`, font: `${FONT_FAMILY} ${points}`, fontfile: FONT_FILE, rgba: true, dpi: 72 },
  })
    .png()
    .toBuffer({ resolveWithObject: true });
  // Letters wider than the placeholder (two wide glyphs at small sizes) are scaled down to fit.
  const fitted = text.info.width > size * 0.9 ? await sharp(text.data).resize({ width: Math.floor(size * 0.9) }).png().toBuffer() : text.data;
  return sharp(await background(colour, size).png().toBuffer()).composite([{ input: fitted, gravity: 'centre' }]);
}

async function draw(colour: number, size: number, format: Format, style: PlaceholderStyle): Promise<Buffer> {
  let image: sharp.Sharp;
  if (style.kind === 'initials') image = await drawInitials(colour, size, style.letters);
  else if (style.kind === 'blank') image = background(colour, size);
  else image = sharp(silhouetteSvg(PALETTE[colour]!), { density: Math.max(72, Math.ceil((72 * size) / 100)) }).resize(size, size);
  return encode(image, format).toBuffer();
}

/** The part of the ETag that names the style. */
function styleTag(style: PlaceholderStyle): string {
  if (style.kind === 'mp') return '';
  if (style.kind === 'blank') return 'b';
  return `i${Buffer.from(style.letters).toString('hex')}-`;
}

export function createPlaceholders(): Placeholders {
  // Silhouettes and blanks: at most 2 x PALETTE x SIZES x FORMATS entries, bounded by construction.
  const drawn = new Map<string, Promise<PlaceholderImage>>();
  const initials = new LRUCache<string, Promise<PlaceholderImage>>({ max: MAX_INITIALS_DRAWN });
  return {
    get(chatId, size, format, style = SILHOUETTE) {
      const colour = paletteIndex(chatId);
      const tag = styleTag(style);
      const key = `${tag}${colour}:${size}:${format}`;
      const cache = style.kind === 'initials' ? initials : drawn;
      let image = cache.get(key);
      if (!image) {
        image = draw(colour, size, format, style).then((body) => ({ body, etag: placeholderEtag(colour, size, format, tag) }));
        image.catch(() => cache.delete(key));
        cache.set(key, image);
      }
      return image;
    },
  };
}
