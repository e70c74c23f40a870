/** What a client may ask for: output formats and sizes. Pure functions, no I/O. */

export const FORMATS = ['webp', 'avif', 'png', 'jpeg'] as const;
export type Format = (typeof FORMATS)[number];

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
 * Format for a URL without an extension: avif if the client names image/avif, else webp if it names
 * image/webp, else jpeg (what every browser decodes). Wildcards do not count as naming a type.
 */
export function negotiateFormat(accept: string | undefined): Format {
  if (!accept) return 'jpeg';
  const named = new Set<string>();
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q && Number(q.slice(2)) === 0) continue;
    if (type) named.add(type.trim());
  }
  if (named.has('image/avif')) return 'avif';
  if (named.has('image/webp')) return 'webp';
  return 'jpeg';
}
