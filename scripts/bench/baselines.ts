/**
 * Baseline servers for `npm run bench`, each in its own process like the service:
 *   node baselines.js http|express|http-distinct <body-file>
 *   node baselines.js http-redis <body-file> <key>
 *   node baselines.js ipx <directory>
 *   node baselines.js cold-floor <key-prefix> <GetAvatar URL>
 * The first four send the same bytes with the same headers as an avatar hit (BENCH_HEADERS); `http-distinct` answers
 * /avatar/<n>.webp with the body that distinct avatar n has in the bench (see distinctBody); `http-redis`
 * reads the body from Redis (REDIS_URL, at `key`, which the bench deletes) with one GET per request, as
 * ioredis with auto-pipelining sends it: the least any Redis hit costs on this machine. `ipx` is Nuxt's sharp
 * image server rendering the files of a directory on request (`/s_96x96,f_png/photo-1.jpg`). `cold-floor` is
 * the least a cold avatar costs: for /avatar/<n>.webp, GetAvatar for n@c.us, the download, one sharp
 * thumbnail, source and thumbnail written to Redis (under `key-prefix`) in one round trip, with none of the
 * service's checks, limits, picture info or bookkeeping.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import express from 'express';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { distinctBody } from './distinct-body';

const [kind, file, extra] = process.argv.slice(2);
const body = kind === 'ipx' || kind === 'cold-floor' ? Buffer.alloc(0) : readFileSync(file!);
/**
 * The headers of the service's own hot hit (BENCH_HEADERS, JSON; the bench reads them from the service), so a
 * baseline sends what the service sends, header for header; a new X-Request-Id per response, as the service
 * makes one for every request that brings none.
 */
const headers: Record<string, string> = { ...(JSON.parse(process.env.BENCH_HEADERS ?? '{}') as Record<string, string>), 'content-length': String(body.length) };
const perResponse = 'x-request-id' in headers;
/** The headers of one response: `base` with a request id of its own when the service sends one. */
const withRequestId = (base: Record<string, string>): Record<string, string> => {
  if (!perResponse) return base;
  const own = Object.assign({}, base);
  own['x-request-id'] = randomUUID();
  return own;
};

/** Redis as the service talks to it: auto-pipelined. */
const redisClient = () => new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: true });

async function handlerFor(kind: string | undefined): Promise<RequestListener> {
  if (kind === 'http-distinct') {
    // The leanest server sending those bytes: one Map lookup by URL, the headers made once per body (the bench
    // warms it up with the same paths before measuring).
    const answers = new Map<string, { headers: Record<string, string>; body: Buffer }>();
    return (req, res) => {
      const url = req.url ?? '';
      let answer = answers.get(url);
      if (!answer) {
        const own = distinctBody(body, Number(/(\d+)\.webp/.exec(url)?.[1] ?? 0));
        answers.set(url, (answer = { headers: { ...headers, 'content-length': String(own.length) }, body: own }));
      }
      res.writeHead(200, withRequestId(answer.headers));
      res.end(answer.body);
    };
  }
  if (kind === 'http-redis') {
    const redis = redisClient();
    await redis.set(extra!, body);
    return (_req, res) => {
      void redis.getBuffer(extra!).then((bytes) => {
        res.writeHead(200, withRequestId(headers));
        res.end(bytes);
      });
    };
  }
  if (kind === 'cold-floor') {
    const redis = redisClient();
    const upstream = axios.create({ httpAgent: new Agent({ keepAlive: true }), proxy: false });
    return (req, res) => {
      const n = /(\d+)\.webp/.exec(req.url ?? '')?.[1] ?? '0';
      void (async () => {
        const { data } = await upstream.post<{ urlAvatar: string }>(extra!, { chatId: `${n}@c.us` });
        const source = Buffer.from((await upstream.get<ArrayBuffer>(data.urlAvatar, { responseType: 'arraybuffer' })).data);
        const thumbnail = await sharp(source).resize(128, 128, { fit: 'cover' }).webp({ quality: 80, effort: 4 }).toBuffer();
        await redis.pipeline().set(`${file}:src:${n}`, source).set(`${file}:img:${n}`, thumbnail).exec();
        res.writeHead(200, withRequestId({ ...headers, 'content-length': String(thumbnail.length) }));
        res.end(thumbnail);
      })().catch((err: Error) => {
        res.writeHead(500);
        res.end(err.message);
      });
    };
  }
  if (kind === 'http') {
    return (_req, res) => {
      res.writeHead(200, withRequestId(headers));
      res.end(body);
    };
  }
  if (kind === 'ipx') {
    const { createIPX, createIPXNodeServer, ipxFSStorage } = await import('ipx');
    return createIPXNodeServer(createIPX({ storage: ipxFSStorage({ dir: file! }) }));
  }
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/avatar/:file', (_req, res) => {
    res.set(withRequestId(headers)).send(body);
  });
  return app;
}

void handlerFor(kind).then((handler) => {
  const server = createServer(handler).listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ msg: 'listening', port: (server.address() as AddressInfo).port })}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
});
