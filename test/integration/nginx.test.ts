import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { avatarResponses, total } from '../helpers/metrics';
import { freePort } from '../helpers/redis-server';
import { eventually, startStack, type Stack } from '../helpers/stack';
import { get } from '../helpers/http';

const NGINX = '/usr/sbin/nginx';
const haveNginx = spawnSync(NGINX, ['-v']).status === 0;
// .ci/run installs nginx; elsewhere, without it, say so and skip.
const describeWithNginx = haveNginx || process.env.CI ? describe : describe.skip;
if (!haveNginx && !process.env.CI) console.warn('nginx test skipped: nginx is not installed (apt-get install -y nginx-light)');

/** Runs deploy/nginx.conf as shipped, with only its upstream, port and cache directory moved. */
async function startNginx(upstream: string): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nginx-'));
  const port = await freePort();
  const site = readFileSync(path.resolve(__dirname, '../../deploy/nginx.conf'), 'utf8')
    .replace('server 127.0.0.1:3000;', `server ${new URL(upstream).host};`)
    .replace('listen 8080;', `listen 127.0.0.1:${port};`)
    .replace('/var/cache/nginx/avatar-cdn', path.join(dir, 'cache'));
  writeFileSync(path.join(dir, 'avatar-cdn.conf'), site);
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `user root; daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  include ${dir}/avatar-cdn.conf;
}
`,
  );
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.ok === true, 10_000, 50);
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGQUIT');
      }),
  };
}

describeWithNginx('nginx with deploy/nginx.conf in front', () => {
  let stack: Stack;
  let edge: Awaited<ReturnType<typeof startNginx>>;

  beforeAll(async () => {
    stack = await startStack({
      env: { MISS_WAIT_MS: '2000' },
    });
    edge = await startNginx(stack.url);
  });
  afterAll(async () => {
    await edge?.stop();
    await stack?.close();
  });

  it('answers the second request for an avatar itself: the service sees nothing', async () => {
    stack.green.set('11009000001@c.us', { kind: 'avatar', url: await stack.images.add('edge') });
    const first = await get(edge.url, '/avatar/11009000001.webp');
    expect(first.headers['x-avatar-status']).toBe('ok');
    expect(first.headers['x-edge-cache']).toBe('MISS');
    const before = total(await avatarResponses(stack.url));
    const second = await get(edge.url, '/avatar/11009000001.webp');
    expect(second.headers['x-edge-cache']).toBe('HIT');
    expect(Buffer.compare(second.body as Buffer, first.body as Buffer)).toBe(0);
    expect(total(await avatarResponses(stack.url))).toBe(before);
  });

  it('keeps the queue dashboard and /metrics off the edge; health answers through it', async () => {
    expect((await get(edge.url, '/metrics')).status).toBe(404);
    expect((await get(edge.url, '/admin/queues')).status).toBe(404);
    expect((await get(stack.url, '/metrics')).status).toBe(200);
    expect((await get(edge.url, '/healthz')).status).toBe(200);
  });

  it('keeps a variant per Accept for the extension-less URL', async () => {
    stack.green.set('11009000002@c.us', { kind: 'avatar', url: await stack.images.add('negotiated') });
    await get(edge.url, '/avatar/11009000002', { Accept: 'image/webp' });
    const webp = await get(edge.url, '/avatar/11009000002', { Accept: 'image/webp' });
    const jpeg = await get(edge.url, '/avatar/11009000002', { Accept: '*/*' });
    expect(webp.headers['content-type']).toBe('image/webp');
    expect(jpeg.headers['content-type']).toBe('image/jpeg');
  });

  it('never keeps a pending placeholder', async () => {
    stack.green.set('11009000003@c.us', { kind: 'avatar', url: await stack.images.add('slow-edge') }, 3000);
    const pending = await get(edge.url, '/avatar/11009000003.webp');
    expect(pending.headers['x-avatar-status']).toBe('pending');
    expect(pending.headers['cache-control']).toBe('no-store');
    await eventually(async () => (await get(edge.url, '/avatar/11009000003.webp')).headers['x-avatar-status'] === 'ok', 10_000, 200);
  });

});

describeWithNginx('nginx in front of short-lived answers', () => {
  it('serves the new picture once the avatar changed upstream and its lifetime passed', async () => {
    const stack = await startStack({ env: { AVATAR_TTL_SECONDS: '2', STALE_MAX_AGE_SECONDS: '1', REFRESH_AHEAD_SECONDS: '0', MEMORY_CACHE_TTL_MS: '200' } });
    const edge = await startNginx(stack.url);
    try {
      stack.green.set('11009000004@c.us', { kind: 'avatar', url: await stack.images.add('old-face', { seed: 21 }) });
      const old = await get(edge.url, '/avatar/11009000004.webp');
      expect(old.headers['cache-control']).toMatch(/max-age=[0-2],/);
      stack.green.set('11009000004@c.us', { kind: 'avatar', url: await stack.images.add('new-face', { seed: 22 }) });
      await eventually(async () => (await get(edge.url, '/avatar/11009000004.webp')).headers['etag'] !== old.headers['etag'], 15_000, 250);
      expect(stack.images.downloads('new-face')).toBe(1);
    } finally {
      await edge.stop();
      await stack.close();
    }
  }, 30_000);
});
