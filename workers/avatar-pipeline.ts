import { nextLifetime, recordKeepSeconds, sameAnswer, samePicturePath, type FreshnessPolicy } from '../src/avatar/freshness';
import type { RecordChanges } from '../src/records/record-changes';
import type { Resolved } from '../src/work/outcome';
import type { RecordStatus, ContactRecord, AvatarStore, NewPicture, PictureState } from '../src/avatar/store';
import type { Format } from '../src/avatar/variant';
import type { Clock } from '../src/clock';
import { avatarEtag, placeholderEtag } from '../src/avatar/etag';
import { paletteIndex } from '../src/avatar/placeholder';
import type { ChangeEvents } from '../src/events/change-events';
import type { AvatarReply, GreenApiClient } from '../src/greenapi/client';
import { linkExpiresAt } from '../src/greenapi/link-expiry';
import { DownloadError, type Downloader } from '../src/images/download';
import { decodeSquare, encodeSquare, InvalidImageError, inspectSource, renderVariant, sha256, type SquarePixels } from '../src/images/render';
import type { SharpSlots } from '../src/images/sharp-slots';
import { describeSquare } from '../src/images/picture-info';
import type { Logger } from '../src/logger';
import type { Metrics } from '../src/metrics';

export interface PipelineOptions {
  freshness: FreshnessPolicy;
  imageTtlSeconds: number;
  maxPixels: number;
  defaultSize: number;
  defaultFormat: Format;
  /** sharp operations at once in this process (RENDER_CONCURRENCY). */
}

export interface PipelineDeps {
  store: AvatarStore;
  metrics: Metrics;
  greenApi: GreenApiClient;
  downloader: Downloader;
  logger: Logger;
  clock: Clock;
  /** Where changed answers are announced (stream, webhook). */
  events?: ChangeEvents;
  /** Every API process's memory hears of a changed answer here, before the change event goes out. */
  changes: RecordChanges;
  /** The process's sharp slots (RENDER_CONCURRENCY), shared with placeholder draws. */
  slots: SharpSlots;
  options: PipelineOptions;
}

/** Stop trusting a signed link this long before its own expiry. */
const LINK_MARGIN_MS = 60_000;

export interface AvatarPipeline {
  /**
   * GetAvatar, then (for a new picture) download, validate, store and render the default variant; writes
   * the answer last. An unchanged picture path downloads nothing.
   */
  resolve(chatId: string, stored?: { previous: ContactRecord | undefined }): Promise<Resolved<ContactRecord>>;
  /** The source bytes for a cached answer, downloading again (or resolving again) if they were evicted. */
  sourceFor(chatId: string, meta: ContactRecord): Promise<{ meta: ContactRecord; source: Buffer }>;
  /** A variant of chatId's picture `hash`, rendered and stored in its answer; its bytes. */
  render(chatId: string, hash: string, source: Buffer, size: number, format: Format): Promise<Buffer>;
}

/** The cached status for an answer that is not a picture (`bad request data` is cached as not on WhatsApp). */
const NEGATIVE_STATUS: Record<Exclude<AvatarReply['kind'], 'avatar'>, RecordStatus> = {
  'no-avatar': 'no-avatar',
  hidden: 'private',
  'not-on-whatsapp': 'not-on-whatsapp',
  'invalid-chat-id': 'not-on-whatsapp',
};

export function createAvatarPipeline({ store, metrics, greenApi, downloader, logger, clock, events, changes, slots, options }: PipelineDeps): AvatarPipeline {
  const { freshness } = options;
  const defaultVariant = { size: options.defaultSize, format: options.defaultFormat };

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

  /** One variant's bytes, timed; a source that passed the header checks but cannot be rendered is not kept. */
  async function renderBytes(hash: string, size: number, format: Format, work: () => Promise<Buffer>): Promise<Buffer> {
    const stop = metrics.renderDuration.startTimer({ format });
    try {
      const bytes = await slots.run(work);
      const seconds = stop();
      logger.debug({ hash: hash.slice(0, 12), size, format, bytes: bytes.length, ms: Math.round(seconds * 1000) }, 'rendered');
      return bytes;
    } catch (err) {
      if (err instanceof InvalidImageError) await store.deleteSource(hash);
      throw err;
    }
  }

  async function render(chatId: string, hash: string, source: Buffer, size: number, format: Format): Promise<Buffer> {
    const bytes = await renderBytes(hash, size, format, () => renderVariant(source, size, format, options.maxPixels));
    await store.putVariant(chatId, hash, { size, format }, bytes);
    return bytes;
  }

  /** The default variant, and the pixels it was encoded from (the picture's info is described from them). */
  async function renderDefault(hash: string, source: Buffer): Promise<{ bytes: Buffer; pixels: SquarePixels }> {
    const { size, format } = defaultVariant;
    let pixels: SquarePixels | undefined;
    const bytes = await renderBytes(hash, size, format, async () => {
      pixels = await decodeSquare(source, size, options.maxPixels);
      return encodeSquare(pixels, format);
    });
    return { bytes, pixels: pixels! };
  }

  /**
   * Validates new source bytes, and renders the default variant and describes the picture's info where they
   * are not stored yet, each once per picture from one decode of its centre square: what to store, in one write.
   * `stored`: what the caller just read of this picture's state, so it is not asked again.
   */
  async function preparePicture(chatId: string, bytes: Buffer, stored?: PictureState): Promise<{ hash: string; picture: NewPicture }> {
    const size = inspectSource(bytes, options.maxPixels);
    const hash = sha256(bytes);
    stored ??= await store.pictureState(hash, chatId, defaultVariant);
    const rendered = stored.variant && stored.info ? undefined : await renderDefault(hash, bytes);
    const variant = rendered && !stored.variant ? { ...defaultVariant, bytes: rendered.bytes } : undefined;
    const info = rendered && !stored.info ? describeSquare(rendered.pixels, size) : undefined;
    return { hash, picture: { source: bytes, variant, info } };
  }

  /** The ETag of an answer's image at the default size and format: the picture's, or the placeholder's. */
  const defaultEtag = (chatId: string, answer: ContactRecord): string =>
    answer.status === 'ok'
      ? avatarEtag(answer.hash, options.defaultSize, options.defaultFormat)
      : placeholderEtag(paletteIndex(chatId), options.defaultSize, options.defaultFormat);

  /**
   * Writes an answer with its lifetime: doubled when it did not change, the base lifetime when it did. With the
   * new picture it points to, when there is one: both in one write.
   */
  async function writeAnswer(
    chatId: string,
    previous: ContactRecord | undefined,
    status: RecordStatus,
    url: string,
    { hash, picture }: { hash: string; picture?: NewPicture },
  ): Promise<Resolved<ContactRecord>> {
    const now = clock();
    const unchanged = previous !== undefined && sameAnswer(previous, { status, hash });
    const lifetime = nextLifetime(freshness, unchanged ? previous : undefined, status);
    const meta: ContactRecord = {
      status,
      url,
      hash,
      resolvedAt: now,
      freshUntil: now + lifetime * 1000,
      // The link's expiry bounds only the link (re-downloading the source), not the answer's freshness.
      urlExpiresAt: url ? (linkExpiresAt(url) ?? now + freshness.avatar.baseSeconds * 1000) : 0,
      lifetime,
      changedAt: unchanged ? previous.changedAt : now,
    };
    const keepSeconds = recordKeepSeconds(freshness, options.imageTtlSeconds, meta);
    if (picture) await store.putPicture(hash, picture, { chatId, meta, ttlSeconds: keepSeconds });
    else await store.writeMeta(chatId, meta, keepSeconds);
    if (previous && !unchanged) {
      // Written, then every memory forgets the old one, then the event: whoever reacts to it gets the new
      // bytes. (A crash between the write and the event loses that event; announced before the write, a
      // webhook could arrive before the new picture was there to serve.)
      await changes.announce(chatId, now);
      await events?.record({ chatId, status, etag: defaultEtag(chatId, meta), previousEtag: defaultEtag(chatId, previous) }, now);
    }
    return { record: meta, thumbnail: picture?.variant };
  }

  /** Applies a GetAvatar answer. An expired link (403/404/410) earns exactly one fresh GetAvatar. */
  async function apply(chatId: string, previous: ContactRecord | undefined, answer: AvatarReply, mayAskAgain: boolean): Promise<Resolved<ContactRecord>> {
    if (answer.kind !== 'avatar') return writeAnswer(chatId, previous, NEGATIVE_STATUS[answer.kind], '', { hash: '' });
    // The same picture path is the same picture: keep hash, variants and ETag; only the link is new.
    const kept = previous?.status === 'ok' && samePicturePath(previous.url, answer.url) ? await store.pictureState(previous.hash, chatId, defaultVariant) : undefined;
    if (previous && kept?.source) {
      // Pictures stored before their info was computed get it now, from the stored bytes, with the answer.
      const source = kept.info ? null : await store.getSource(previous.hash);
      return writeAnswer(chatId, previous, 'ok', answer.url, source ? await preparePicture(chatId, source, kept) : { hash: previous.hash });
    }
    let bytes: Buffer;
    try {
      bytes = await download(answer.url);
    } catch (err) {
      if (!mayAskAgain || !(err instanceof DownloadError) || err.reason !== 'expired') throw err;
      logger.info({ chatId }, 'avatar link expired, asking GetAvatar again');
      return apply(chatId, previous, await greenApi.getAvatar(chatId), false);
    }
    return writeAnswer(chatId, previous, 'ok', answer.url, await preparePicture(chatId, bytes));
  }

  /** `stored`: the answer as the caller just read it, so it is not read twice. */
  async function resolve(chatId: string, stored?: { previous: ContactRecord | undefined }): Promise<Resolved<ContactRecord>> {
    const previous = stored ? stored.previous : await store.readMeta(chatId);
    return apply(chatId, previous, await greenApi.getAvatar(chatId), true);
  }

  /** The source again through the stored link; an expired link costs one GetAvatar, as in apply. */
  async function refetch(chatId: string, meta: ContactRecord): Promise<ContactRecord> {
    let bytes: Buffer;
    try {
      bytes = await download(meta.url);
    } catch (err) {
      if (!(err instanceof DownloadError) || err.reason !== 'expired') throw err;
      return (await resolve(chatId)).record;
    }
    const prepared = await preparePicture(chatId, bytes);
    if (prepared.hash !== meta.hash) return (await writeAnswer(chatId, meta, 'ok', meta.url, prepared)).record;
    await store.putPicture(prepared.hash, prepared.picture, { chatId });
    return meta;
  }

  async function sourceFor(chatId: string, meta: ContactRecord): Promise<{ meta: ContactRecord; source: Buffer }> {
    const cached = await store.getSource(meta.hash);
    if (cached) return { meta, source: cached };
    // Evicted: the link, while valid, gives the bytes again without a billed GetAvatar call, and without
    // counting as a refresh (the answer's freshness is unchanged).
    const linkValid = meta.url !== '' && meta.urlExpiresAt - LINK_MARGIN_MS > clock();
    const current = linkValid ? await refetch(chatId, meta) : (await resolve(chatId)).record;
    const source = current.hash ? await store.getSource(current.hash) : null;
    if (!source) throw new Error(`no source for ${chatId} after refetch (${current.status})`);
    return { meta: current, source };
  }

  return { resolve, sourceFor, render };
}
