import axios, { type AxiosInstance } from 'axios';
import type { Readable } from 'node:stream';
import { refuseSource, type SourcePolicy } from './source-policy';

export interface DownloadLimits extends SourcePolicy {
  maxBytes: number;
  timeoutMs: number;
  maxRedirects?: number;
}

/**
 * Why a download failed:
 *  - expired:   the host answered 403/404/410, which for a signed pps.whatsapp.net link means the link is
 *               no longer valid; a fresh GetAvatar gives a new one
 *  - transient: network error, timeout, 5xx; worth a retry
 *  - refused:   not allowed or too big; retrying changes nothing
 */
export class DownloadError extends Error {
  override name = 'DownloadError';
  constructor(
    message: string,
    readonly reason: 'expired' | 'transient' | 'refused',
  ) {
    super(message);
  }
}

export interface Downloader {
  download(url: string): Promise<Buffer>;
}

async function readBounded(stream: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) {
      stream.destroy();
      throw new DownloadError(`source larger than ${maxBytes} bytes`, 'refused');
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}

/** Downloads a source image: allowlisted hosts only, every redirect hop checked, bytes and time bounded. */
export function createDownloader(limits: DownloadLimits, http: AxiosInstance = axios.create()): Downloader {
  const maxRedirects = limits.maxRedirects ?? 3;
  return {
    async download(startUrl) {
      const signal = AbortSignal.timeout(limits.timeoutMs);
      let url = startUrl;
      try {
        for (let hop = 0; hop <= maxRedirects; hop++) {
          const refusal = refuseSource(url, limits);
          if (refusal) throw new DownloadError(`source refused: ${refusal}`, 'refused');
          const res = await http.get<Readable>(url, {
            responseType: 'stream',
            maxRedirects: 0,
            validateStatus: () => true,
            signal,
            decompress: false,
            headers: { Accept: 'image/jpeg, image/png, image/webp' },
          });
          const { status } = res;
          if (status >= 300 && status < 400 && res.headers.location) {
            res.data.destroy();
            url = new URL(String(res.headers.location), url).toString();
            continue;
          }
          if (status !== 200) {
            res.data.destroy();
            const reason = [403, 404, 410].includes(status) ? 'expired' : status >= 500 || status === 429 ? 'transient' : 'refused';
            throw new DownloadError(`image host answered HTTP ${status}`, reason);
          }
          const declared = Number(res.headers['content-length']);
          if (Number.isFinite(declared) && declared > limits.maxBytes) {
            res.data.destroy();
            throw new DownloadError(`source declares ${declared} bytes, limit ${limits.maxBytes}`, 'refused');
          }
          return await readBounded(res.data, limits.maxBytes);
        }
        throw new DownloadError(`more than ${maxRedirects} redirects`, 'refused');
      } catch (err) {
        if (err instanceof DownloadError) throw err;
        if (signal.aborted) throw new DownloadError(`download took longer than ${limits.timeoutMs} ms`, 'transient');
        throw new DownloadError(`download failed (${(err as { code?: string }).code ?? 'network error'})`, 'transient');
      }
    },
  };
}
