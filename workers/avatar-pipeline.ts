import type { AvatarMeta, AvatarStore } from '../src/avatar/store';
import type { Format } from '../src/avatar/variant';
import type { AvatarAnswer, GreenApiClient } from '../src/greenapi/client';
import { linkExpiresAt } from '../src/greenapi/link-expiry';
import { DownloadError, type Downloader } from '../src/images/download';
import { inspectSource, renderVariant, sha256 } from '../src/images/render';
import type { Logger } from '../src/logger';
import type { Metrics } from '../src/metrics';

export interface PipelineOptions {
  avatarTtlSeconds: number;
  negativeTtlSeconds: number;
  imageTtlSeconds: number;
  maxPixels: number;
  defaultSize: number;
  defaultFormat: Format;
}

export interface PipelineDeps {
  store: AvatarStore;
  metrics: Metrics;
  greenApi: GreenApiClient;
  downloader: Downloader;
  logger: Logger;
  options: PipelineOptions;
}

/** Stop trusting a signed link this long before its own expiry. */
const LINK_MARGIN_MS = 60_000;
/** A link about to expire still keeps its answer fresh this long, so it cannot cause a refresh loop. */
const MIN_FRESH_MS = 60_000;

export interface AvatarPipeline {
  /** GetAvatar, then (for an avatar) download, validate, store and render the default variant; writes meta last. */
  resolve(chatId: string): Promise<AvatarMeta>;
  /** The source bytes for a cached answer, downloading again (or resolving again) if they were evicted. */
  sourceFor(chatId: string, meta: AvatarMeta): Promise<{ meta: AvatarMeta; source: Buffer }>;
  render(hash: string, source: Buffer, size: number, format: Format): Promise<void>;
}

export function createAvatarPipeline({ store, metrics, greenApi, downloader, logger, options }: PipelineDeps): AvatarPipeline {
  async function download(url: string): Promise<Buffer> {
    try {
      const bytes = await downloader.download(url);
      metrics.downloads.inc({ outcome: 'ok' });
      metrics.downloadBytes.inc(bytes.length);
      return bytes;
    } catch (err) {
      metrics.downloads.inc({ outcome: err instanceof DownloadError ? err.reason : 'error' });
      throw err;
    }
  }

  async function storeSource(bytes: Buffer): Promise<string> {
    await inspectSource(bytes, options.maxPixels);
    const hash = sha256(bytes);
    await store.putSource(hash, bytes);
    return hash;
  }

  async function render(hash: string, source: Buffer, size: number, format: Format): Promise<void> {
    const stop = metrics.renderDuration.startTimer({ format });
    const bytes = await renderVariant(source, size, format, options.maxPixels);
    const seconds = stop();
    await store.putVariant(hash, size, format, bytes);
    logger.debug({ hash: hash.slice(0, 12), size, format, bytes: bytes.length, ms: Math.round(seconds * 1000) }, 'rendered');
  }

  async function writeNegative(chatId: string, status: 'no-avatar' | 'not-on-whatsapp'): Promise<AvatarMeta> {
    const now = Date.now();
    const meta: AvatarMeta = { status, url: '', hash: '', resolvedAt: now, freshUntil: now + options.negativeTtlSeconds * 1000, urlExpiresAt: 0 };
    await store.writeMeta(chatId, meta, options.negativeTtlSeconds);
    return meta;
  }

  async function writeAvatar(chatId: string, url: string, bytes: Buffer): Promise<AvatarMeta> {
    const hash = await storeSource(bytes);
    await render(hash, bytes, options.defaultSize, options.defaultFormat);
    const now = Date.now();
    const ttlEnd = now + options.avatarTtlSeconds * 1000;
    const urlExpiresAt = linkExpiresAt(url) ?? ttlEnd;
    const meta: AvatarMeta = {
      status: 'ok',
      url,
      hash,
      resolvedAt: now,
      freshUntil: Math.min(ttlEnd, Math.max(now + MIN_FRESH_MS, urlExpiresAt - LINK_MARGIN_MS)),
      urlExpiresAt,
    };
    // Meta is written last and lives as long as the images, so an expired answer can still be served stale.
    await store.writeMeta(chatId, meta, options.imageTtlSeconds);
    return meta;
  }

  /** Applies a GetAvatar answer. An expired link (403/404/410) earns exactly one fresh GetAvatar. */
  async function apply(chatId: string, answer: AvatarAnswer, mayAskAgain: boolean): Promise<AvatarMeta> {
    if (answer.kind === 'no-avatar') return writeNegative(chatId, 'no-avatar');
    if (answer.kind !== 'avatar') return writeNegative(chatId, 'not-on-whatsapp');
    let bytes: Buffer;
    try {
      bytes = await download(answer.url);
    } catch (err) {
      if (!mayAskAgain || !(err instanceof DownloadError) || err.reason !== 'expired') throw err;
      logger.info({ chatId }, 'avatar link expired, asking GetAvatar again');
      return apply(chatId, await greenApi.getAvatar(chatId), false);
    }
    return writeAvatar(chatId, answer.url, bytes);
  }

  const resolve = async (chatId: string): Promise<AvatarMeta> => apply(chatId, await greenApi.getAvatar(chatId), true);

  async function sourceFor(chatId: string, meta: AvatarMeta): Promise<{ meta: AvatarMeta; source: Buffer }> {
    const cached = await store.getSource(meta.hash);
    if (cached) return { meta, source: cached };
    // Evicted: the link, while valid, gives the bytes again without a billed GetAvatar call.
    const linkValid = meta.url !== '' && meta.urlExpiresAt - LINK_MARGIN_MS > Date.now();
    const fresh = linkValid ? await apply(chatId, { kind: 'avatar', url: meta.url }, true) : await resolve(chatId);
    const source = fresh.hash ? await store.getSource(fresh.hash) : null;
    if (!source) throw new Error(`no source for ${chatId} after refetch (${fresh.status})`);
    return { meta: fresh, source };
  }

  return { resolve, sourceFor, render };
}
