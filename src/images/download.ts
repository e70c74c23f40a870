import type { AxiosInstance } from 'axios';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { outboundHttp } from '../http/outbound';
import type { Readable } from 'node:stream';
import { isReservedAddress, refuseSource, type SourcePolicy } from './source-policy';

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

const PRIVATE_ADDRESS = 'EPRIVATEADDRESS';

/**
 * DNS resolution that refuses names resolving to loopback, private, link-local or reserved addresses, checked
 * where the connection is made (so a name cannot pass one check and then resolve elsewhere).
 */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const reserved = addresses.find((a) => isReservedAddress(a.address));
    if (reserved) {
      return callback(Object.assign(new Error(`${hostname} resolves to a private or reserved address`), { code: PRIVATE_ADDRESS }), '', 0);
    }
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};


/** Downloads a source image: allowlisted hosts only, every redirect hop checked, bytes and time bounded. */
export function createDownloader(
  limits: DownloadLimits,
  // Names resolve through the guard unless private addresses are allowed.
  http: AxiosInstance = outboundHttp(limits.allowPrivate ? undefined : guardedLookup),
): Downloader {
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
        const code = (err as { code?: string }).code;
        if (code === PRIVATE_ADDRESS) throw new DownloadError(`source refused: ${(err as Error).message}`, 'refused');
        throw new DownloadError(`download failed (${code ?? 'network error'})`, 'transient');
      }
    },
  };
}
