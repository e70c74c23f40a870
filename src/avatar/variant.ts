/** What a client may ask for: output formats and sizes. Pure functions, no I/O. */

export const FORMATS = ['webp', 'avif', 'png', 'jpeg'] as const;
export type Format = (typeof FORMATS)[number];
/** How a format is spelled in the URLs the service writes (JPEG as `.jpg`). */
export const urlExtension = (format: Format) => (format === 'jpeg' ? 'jpg' : format);

/** Sizes are snapped up to this fixed set so arbitrary `?size=` values cannot blow up the cache. */
export const SIZES = [32, 48, 64, 96, 128, 192, 256, 384, 512, 640] as const;
export const MAX_SIZE = SIZES[SIZES.length - 1];

export const CONTENT_TYPES: Record<Format, string> = {
  webp: 'image/webp',
  avif: 'image/avif',
  png: 'image/png',
  jpeg: 'image/jpeg',
};

/** `jpg` and `jpeg` are one variant. */
export function parseFormat(ext: string): Format | undefined {
  const lower = ext.toLowerCase();
  if (lower === 'jpg') return 'jpeg';
  return (FORMATS as readonly string[]).includes(lower) ? (lower as Format) : undefined;
}

/** Smallest allowed size >= n; n must already be within 1..MAX_SIZE. */
export function snapSize(n: number): number {
  return SIZES.find((s) => s >= n) ?? MAX_SIZE;
}

/**
 * Format for a URL without an extension, by the q-values of Accept: avif if the client names image/avif, webp
 * if it names image/webp, jpeg (what every browser decodes) otherwise; the highest q wins, ties go by that order.
 * Wildcards do not count as naming AVIF or WebP (a client that says image/* may not decode them); they give
 * JPEG its q when image/jpeg is not named.
 */
export function negotiateFormat(accept: string | undefined): Format {
  if (!accept) return 'jpeg';
  const named = new Map<string, number>();
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    const given = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = given === undefined ? 1 : Number(given.slice(2));
    const name = type?.trim();
    if (name) named.set(name, Math.max(named.get(name) ?? 0, Number.isFinite(q) ? Math.min(1, Math.max(0, q)) : 0));
  }
  const avif = named.get('image/avif') ?? 0;
  const webp = named.get('image/webp') ?? 0;
  const jpeg = named.get('image/jpeg') ?? Math.max(named.get('image/*') ?? 0, named.get('*/*') ?? 0);
  if (avif > 0 && avif >= webp && avif >= jpeg) return 'avif';
  if (webp > 0 && webp >= jpeg) return 'webp';
  return 'jpeg';
}
