import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import sharp from 'sharp';
import { encode } from '../images/render';
import type { SharpSlots } from '../images/sharp-slots';
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
  /** Whether `get` would draw (initials not drawn yet): a draw is a render, with a render's budget. */
  wouldDraw(chatId: string, size: number, format: Format, style?: PlaceholderStyle): boolean;
}

export function paletteIndex(chatId: string): number {
  return hash('sha1', chatId, 'buffer')[0]! % PALETTE.length;
}

/** A contact's placeholder background colour, `#rrggbb`. */
export const placeholderColour = (chatId: string): string => PALETTE[paletteIndex(chatId)]!;

/**
 * The font for initials ships with the package (DejaVu Sans Bold), handed to sharp/Pango as a file: Docker
 * images and CI machines have no system fonts.
 */
const FONT_FILE = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf');
const FONT_FAMILY = 'DejaVu Sans Bold';
/**
 * The scripts that font draws (checked by rendering them): Latin, Greek, Cyrillic, Armenian, Georgian, Hebrew,
 * Arabic, and digits. It has no Devanagari, Thai or CJK glyphs: letters in those would be drawn as boxes.
 */
const DRAWABLE = /^(?:[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}\p{Script=Armenian}\p{Script=Georgian}\p{Script=Hebrew}\p{Script=Arabic}0-9]|\p{M})+$/u;

/** Whether the shipped font has glyphs for these letters (else the silhouette is drawn). */
export const canDrawLetters = (letters: string): boolean => DRAWABLE.test(letters);

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
  // Letters wider or taller than the placeholder (wide glyphs, stacked marks, small sizes) are scaled down to fit.
  const room = Math.max(1, Math.floor(size * 0.9));
  const fits = text.info.width <= room && text.info.height <= room;
  const fitted = fits ? text.data : await sharp(text.data).resize({ width: room, height: room, fit: 'inside' }).png().toBuffer();
  return sharp(await background(colour, size).png().toBuffer()).composite([{ input: fitted, gravity: 'centre' }]);
}

const silhouette = (colour: number, size: number) =>
  sharp(silhouetteSvg(PALETTE[colour]!), { density: Math.max(72, Math.ceil((72 * size) / 100)) }).resize(size, size);

async function draw(colour: number, size: number, format: Format, style: PlaceholderStyle): Promise<Buffer> {
  if (style.kind === 'initials') {
    try {
      return await encode(await drawInitials(colour, size, style.letters), format).toBuffer();
    } catch {
      // Letters Pango could not lay out within the placeholder: the silhouette, never a 500.
      return encode(silhouette(colour, size), format).toBuffer();
    }
  }
  return encode(style.kind === 'blank' ? background(colour, size) : silhouette(colour, size), format).toBuffer();
}

/** The part of the ETag that names the style. */
function styleTag(style: PlaceholderStyle): string {
  if (style.kind === 'mp') return '';
  if (style.kind === 'blank') return 'b';
  return `i${Buffer.from(style.letters).toString('hex')}-`;
}

/** `slots`: the sharp slots renders take, so placeholder draws share their bound. */
export function createPlaceholders(slots: SharpSlots): Placeholders {
  // Silhouettes and blanks: at most 2 x PALETTE x SIZES x FORMATS entries, bounded by construction.
  const drawn = new Map<string, Promise<PlaceholderImage>>();
  const initials = new LRUCache<string, Promise<PlaceholderImage>>({ max: MAX_INITIALS_DRAWN });
  const place = (chatId: string, size: number, format: Format, style: PlaceholderStyle) => {
    const colour = paletteIndex(chatId);
    const tag = styleTag(style);
    return { colour, tag, key: `${tag}${colour}:${size}:${format}`, cache: style.kind === 'initials' ? initials : drawn };
  };
  return {
    wouldDraw: (chatId, size, format, style = SILHOUETTE) => style.kind === 'initials' && !initials.has(place(chatId, size, format, style).key),
    get(chatId, size, format, style = SILHOUETTE) {
      const { colour, tag, key, cache } = place(chatId, size, format, style);
      let image = cache.get(key);
      if (!image) {
        image = slots.run(() => draw(colour, size, format, style)).then((body) => ({ body, etag: placeholderEtag(colour, size, format, tag) }));
        image.catch(() => cache.delete(key));
        cache.set(key, image);
      }
      return image;
    },
  };
}
