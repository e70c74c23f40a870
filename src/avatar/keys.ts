import type { Format } from './variant';

/** Every Redis key the cache uses, under one prefix. Queue keys live under the same prefix (BullMQ's own). */
export interface CacheKeys {
  meta(chatId: string): string;
  source(hash: string): string;
  variant(hash: string, size: number, format: Format): string;
  /** `variant(hash, size, format)` is `variantPrefix + hash + ':' + size + ':' + format` (the read script joins them). */
  variantPrefix: string;
}

export function createKeys(prefix: string): CacheKeys {
  return {
    meta: (chatId) => `${prefix}:meta:${chatId}`,
    source: (hash) => `${prefix}:src:${hash}`,
    variant: (hash, size, format) => `${prefix}:img:${hash}:${size}:${format}`,
    variantPrefix: `${prefix}:img:`,
  };
}
