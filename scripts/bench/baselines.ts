/**
 * Baseline servers for `npm run bench`, each in its own process like the service:
 *   node baselines.js http|express|http-distinct <body-file>
 * They send the same bytes with the same headers as an avatar hit; `http-distinct` answers
 * /avatar/<n>.webp with the body that distinct avatar n has in the bench (see distinctBody).
 */
import { readFileSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { distinctBody } from './distinct-body';

const [kind, bodyFile] = process.argv.slice(2);
const body = readFileSync(bodyFile!);
const headers = {
  'content-type': 'image/webp',
  'content-length': String(body.length),
  etag: '"v1-0123456789abcdef0123-128-webp"',
  'cache-control': 'public, max-age=3600, stale-while-revalidate=60',
  'x-cache': 'HIT',
  'x-avatar-status': 'ok',
  'x-content-type-options': 'nosniff',
  'cross-origin-resource-policy': 'cross-origin',
};

let handler: RequestListener;
if (kind === 'http-distinct') {
  const bodies = new Map<string, Buffer>();
  handler = (req, res) => {
    const n = Number(/(\d+)\.webp/.exec(req.url ?? '')?.[1] ?? 0);
    let own = bodies.get(String(n));
    if (!own) bodies.set(String(n), (own = distinctBody(body, n)));
    res.writeHead(200, { ...headers, 'content-length': String(own.length) });
    res.end(own);
  };
} else if (kind === 'http') {
  handler = (_req, res) => {
    res.writeHead(200, headers);
    res.end(body);
  };
} else {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/avatar/:file', (_req, res) => {
    res.set(headers).send(body);
  });
  handler = app;
}
const server = createServer(handler).listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
