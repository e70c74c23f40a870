import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import sharp from 'sharp';
import { closeServer, delay, drainedOrClosed, listenOnLoopback } from './http-util';

/** A real JPEG: a two-colour gradient with a disc, distinct for every seed. */
export async function makeJpeg(seed: number, width = 640, height = width): Promise<Buffer> {
  const hue = (seed * 67) % 360;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="hsl(${hue},70%,55%)"/><stop offset="1" stop-color="hsl(${(hue + 60) % 360},70%,35%)"/>
    </linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>
    <circle cx="50%" cy="42%" r="22%" fill="hsl(${(hue + 180) % 360},60%,80%)"/>
    <ellipse cx="50%" cy="100%" rx="38%" ry="34%" fill="hsl(${(hue + 180) % 360},60%,80%)"/>
  </svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer();
}

interface HostedImage {
  bytes: Buffer;
  contentType: string;
  status: number;
  delayMs: number;
  headers: Record<string, string>;
  /** Send without Content-Length, in pieces. */
  chunked: boolean;
}

/**
 * A fake pps.whatsapp.net: serves real images at signed-looking paths
 * (`/v/t61.24694-24/<name>.jpg?oe=<hex expiry>`) and counts downloads per name.
 */
export class FakeImageHost extends EventEmitter {
  private readonly images = new Map<string, HostedImage>();
  private readonly downloadCounts = new Map<string, number>();
  private server?: Server;
  url = '';

  async start(port = 0): Promise<string> {
    const { server, url } = await listenOnLoopback((req, res) => void this.handle(req, res), port);
    this.server = server;
    this.url = url;
    return url;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  /** Hosts an image (a generated JPEG unless bytes are given) and returns its signed-looking URL. */
  async add(name: string, options: Partial<HostedImage> & { seed?: number; expiresAt?: number } = {}): Promise<string> {
    const bytes = options.bytes ?? (await makeJpeg(options.seed ?? this.images.size + 1));
    this.images.set(name, {
      bytes,
      contentType: options.contentType ?? 'image/jpeg',
      status: options.status ?? 200,
      delayMs: options.delayMs ?? 0,
      headers: options.headers ?? {},
      chunked: options.chunked ?? false,
    });
    return this.urlFor(name, options.expiresAt);
  }

  urlFor(name: string, expiresAt = Date.now() + 86_400_000): string {
    const oe = Math.floor(expiresAt / 1000).toString(16).toUpperCase();
    return `${this.url}/v/t61.24694-24/${name}.jpg?ccb=11-4&oh=01_fake&oe=${oe}&_nc_cat=1`;
  }

  /** Changes how an image answers (status, delay, bytes, headers such as a redirect's Location). */
  update(name: string, change: Partial<HostedImage>): void {
    const image = this.images.get(name);
    if (!image) throw new Error(`no image ${name}`);
    Object.assign(image, change);
  }

  downloads(name?: string): number {
    if (name !== undefined) return this.downloadCounts.get(name) ?? 0;
    return [...this.downloadCounts.values()].reduce((a, b) => a + b, 0);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const name = /^\/v\/[^/]+\/([^/?]+)\.jpg/.exec(req.url ?? '')?.[1];
    const image = name ? this.images.get(name) : undefined;
    if (!name || !image) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('URL signature expired');
      return;
    }
    this.downloadCounts.set(name, (this.downloadCounts.get(name) ?? 0) + 1);
    this.emit('download', name);
    // The client hung up before the whole image was sent (a timeout or size limit on its side).
    res.once('close', () => {
      if (!res.writableFinished) this.emit('aborted', name);
    });
    if (image.delayMs) await delay(image.delayMs);
    if (image.status !== 200) {
      res.writeHead(image.status, { 'Content-Type': 'text/html', ...image.headers }).end('<html>error</html>');
      return;
    }
    if (image.chunked) {
      res.writeHead(200, { 'Content-Type': image.contentType, ...image.headers });
      for (let i = 0; i < image.bytes.length && !res.destroyed; i += 16_384) {
        if (!res.write(image.bytes.subarray(i, i + 16_384))) await drainedOrClosed(res);
      }
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': image.contentType, 'Content-Length': image.bytes.length, ...image.headers });
    res.end(image.bytes);
  }
}
