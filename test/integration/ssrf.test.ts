import { createServer, type Server } from 'node:net';
import { createKeys } from '../../src/avatar/keys';
import { startStack, type Stack } from '../helpers/stack';
import { get } from '../helpers/http';
import { noisyJpeg } from '../helpers/images';

/** A listener that must never be reached: it counts connections. */
async function forbiddenListener(): Promise<{ server: Server; port: number; connections: () => number }> {
  let count = 0;
  const server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, connections: () => count };
}

let stack: Stack;
let forbidden: Awaited<ReturnType<typeof forbiddenListener>>;
let n = 0;

/** Points a fresh chatId at a URL and requests its avatar. */
async function avatarFor(url: string) {
  const id = `1100000${String(++n).padStart(4, '0')}`;
  stack.green.set(`${id}@c.us`, { kind: 'avatar', url });
  return { id, res: await get(stack.url, `/avatar/${id}.webp`) };
}

beforeAll(async () => {
  forbidden = await forbiddenListener();
  // Filled in below, once the image host's port is known.
  stack = await startStack({ env: { AVATAR_SOURCE_HOSTS: 'placeholder.invalid', MAX_SOURCE_BYTES: '200000', DOWNLOAD_TIMEOUT_MS: '500' } });
  stack.config.source.allowedHosts.splice(0, 1, `127.0.0.1:${new URL(stack.images.url).port}`);
});
afterAll(async () => {
  await stack.close();
  await new Promise((resolve) => forbidden.server.close(resolve));
});

describe('fetching sources (SSRF)', () => {
  it('downloads from an allowed host and port', async () => {
    const { res } = await avatarFor(await stack.images.add('allowed'));
    expect(res.headers['x-avatar-status']).toBe('ok');
  });

  it.each([
    ['another port on loopback', () => `http://127.0.0.1:${forbidden.port}/v/t61/x.jpg`],
    ['another name for loopback', () => `http://localhost:${forbidden.port}/v/t61/x.jpg`],
    ['a userinfo trick', () => `http://127.0.0.1:${new URL(stack.images.url).port}@127.0.0.1:${forbidden.port}/x.jpg`],
  ])('refuses %s: error placeholder, no-store, zero connections', async (_name, url) => {
    const { res } = await avatarFor(url());
    expect(res.status).toBe(200);
    expect(res.headers['x-avatar-status']).toBe('error');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(forbidden.connections()).toBe(0);
  });

  it('refuses an allowed host that redirects to a forbidden one', async () => {
    const url = await stack.images.add('redirector');
    stack.images.update('redirector', { status: 302, headers: { Location: `http://127.0.0.1:${forbidden.port}/x.jpg` } });
    const { res } = await avatarFor(url);
    expect(res.headers['x-avatar-status']).toBe('error');
    expect(forbidden.connections()).toBe(0);
  });

  it('follows up to 3 redirects within the allowlist, and no more', async () => {
    const final = await stack.images.add('final');
    let next = final;
    for (const hop of [1, 2, 3, 4]) {
      const url = await stack.images.add(`hop${hop}`);
      stack.images.update(`hop${hop}`, { status: 302, headers: { Location: next } });
      next = url;
      if (hop === 3) expect((await avatarFor(url)).res.headers['x-avatar-status']).toBe('ok');
    }
    expect((await avatarFor(next)).res.headers['x-avatar-status']).toBe('error');
  });

  it('refuses https-less sources unless AVATAR_SOURCE_ALLOW_HTTP', async () => {
    stack.config.source.allowHttp = false;
    try {
      const { res } = await avatarFor(await stack.images.add('plain-http'));
      expect(res.headers['x-avatar-status']).toBe('error');
      expect(stack.images.downloads('plain-http')).toBe(0);
    } finally {
      stack.config.source.allowHttp = true;
    }
  });

  it('stops a body larger than MAX_SOURCE_BYTES, declared or not', async () => {
    // A real image, acceptable but for its size, so only the byte limit can refuse it.
    const big = await noisyJpeg();
    expect(big.length).toBeGreaterThan(500_000);
    const declared = await stack.images.add('big-declared', { bytes: big });
    expect((await avatarFor(declared)).res.headers['x-avatar-status']).toBe('error');
    const chunked = await stack.images.add('big-chunked', { bytes: big, chunked: true });
    expect((await avatarFor(chunked)).res.headers['x-avatar-status']).toBe('error');
  });

  it('gives up on a download slower than DOWNLOAD_TIMEOUT_MS (a transient failure: retried, never cached)', async () => {
    const url = await stack.images.add('slow', { delayMs: 5000 });
    const aborted = new Promise((resolve) => stack.images.on('aborted', (name) => name === 'slow' && resolve(name)));
    const { id, res } = await avatarFor(url);
    await aborted;
    expect(res.headers['x-avatar-status']).toMatch(/^(pending|error)$/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(await stack.redis.hexists(createKeys(stack.config.redis.keyPrefix).meta(`${id}@c.us`), 'status')).toBe(0);
  });

  it('caches nothing as an answer after a refused download, and does not ask GetAvatar again at once', async () => {
    const { id, res } = await avatarFor(`http://127.0.0.1:${forbidden.port}/y.jpg`);
    expect(res.headers['x-avatar-status']).toBe('error');
    expect(await stack.redis.hexists(createKeys(stack.config.redis.keyPrefix).meta(`${id}@c.us`), 'status')).toBe(0);
    const again = await get(stack.url, `/avatar/${id}.webp`);
    expect(again.headers['x-avatar-status']).toBe('error');
    expect(stack.green.callsFor(`${id}@c.us`)).toBe(1);
  });
});

describe('sources that resolve to private addresses', () => {
  it('refuses an allowlisted name that resolves to loopback, and a loopback address, unless AVATAR_SOURCE_ALLOW_PRIVATE', async () => {
    const port = forbidden.port;
    const guarded = await startStack({ env: { AVATAR_SOURCE_HOSTS: `localhost:${port},127.0.0.1:${port}`, AVATAR_SOURCE_ALLOW_PRIVATE: 'false', DOWNLOAD_TIMEOUT_MS: '500' } });
    try {
      for (const [id, host] of [['11000094001', 'localhost'], ['11000094002', '127.0.0.1']] as const) {
        guarded.green.set(`${id}@c.us`, { kind: 'avatar', url: `http://${host}:${port}/v/t61/x.jpg` });
        const res = await get(guarded.url, `/avatar/${id}.webp`);
        expect(res.headers['x-avatar-status']).toBe('error');
      }
      expect(forbidden.connections()).toBe(0);
      expect(JSON.stringify(guarded.logs)).toContain('private or reserved address');
    } finally {
      await guarded.close();
    }
  });
});
