import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import request from 'supertest';
import { createLogger } from '../../src/logger';
import { startRuntime, type Runtime } from '../../src/runtime';
import { createS3Store } from '../../src/storage/s3-store';
import { makeJpeg } from '../fakes/image-host';
import { get, readyz } from '../helpers/http';
import { metricValue } from '../helpers/metrics';
import { startS3Server, type S3Server } from '../helpers/s3-server';
import { eventually, fakeUpstreamEnv, ManualClock, REDIS_URL, startFakes, startStack, TEST_STORAGE_DIR, type Stack } from '../helpers/stack';
import { spawnService } from '../helpers/service-process';
import { Queue } from 'bullmq';
import { QUEUE_NAMES, RETENTION_SCHEDULER } from '../../src/queue/jobs';

/**
 * The durable tier: pictures, thumbnails and records outlive the cache Redis. The cache is a database of its own
 * (as in production, a Redis of its own), so "emptying the cache Redis" is a FLUSHDB that leaves the queues alone.
 */
const CACHE_DB = 'redis://127.0.0.1:6379/7';
const QUEUE_DB = 'redis://127.0.0.1:6379/8';
const ADMIN = 'durable-admin-token-0123456789';
const CONTACTS = ['11008000001', '11008000002', '11008000003', '11008000004'];

/** Every file under a folder, with its bytes. */
function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => ({ path, bytes: readFileSync(path) }));
}

async function serveAll(url: string, path: (id: string) => string): Promise<{ etags: string[]; caches: string[]; statuses: string[] }> {
  const responses = await Promise.all(CONTACTS.map((id) => get(url, path(id))));
  return { etags: responses.map((r) => r.headers.etag!), caches: responses.map((r) => r.headers['x-cache']!), statuses: responses.map((r) => r.headers['x-avatar-status']!) };
}

function setUpContacts(stack: Stack): Promise<void[]> {
  // Three pictures for four contacts: the last two share one (one download each, by content hash).
  return Promise.all(
    CONTACTS.map(async (id, i) => stack.green.set(`${id}@c.us`, { kind: 'avatar', url: await stack.images.add(`durable-${Math.min(i, 2)}`, { seed: 70 + Math.min(i, 2) }) })),
  ).then((all) => all.map(() => undefined));
}

const calls = (stack: Stack) => CONTACTS.reduce((sum, id) => sum + stack.green.callsFor(`${id}@c.us`), 0);

describe.each([
  ['a folder (STORAGE_URL=file:)', undefined],
  ['a bucket on an S3 server (STORAGE_URL=s3://)', 's3'],
] as const)('durable store in %s', (_name, kind) => {
  let stack: Stack;
  let s3: S3Server | undefined;
  let cacheDb: Redis;

  beforeAll(async () => {
    s3 = kind === 's3' ? await startS3Server() : undefined;
    stack = await startStack({ env: { REDIS_URL: CACHE_DB, QUEUE_REDIS_URL: QUEUE_DB, MEMORY_CACHE_MB: '0', ADMIN_TOKEN: ADMIN, ...s3?.env('deploy') } });
    cacheDb = new Redis(CACHE_DB);
    await setUpContacts(stack);
  });
  afterAll(async () => {
    await stack.close();
    await cacheDb.quit();
    await s3?.close();
  });

  it('serves every known contact after the cache Redis is emptied, and new sizes, with no GetAvatar call and no download', async () => {
    const first = await serveAll(stack.url, (id) => `/avatar/${id}.webp`);
    expect(first.statuses).toEqual(CONTACTS.map(() => 'ok'));
    expect(calls(stack)).toBe(4);
    expect(stack.images.downloads()).toBe(4);

    await cacheDb.flushdb();
    const again = await serveAll(stack.url, (id) => `/avatar/${id}.webp`);
    expect(again.etags).toEqual(first.etags);
    expect(again.caches).toEqual(CONTACTS.map(() => 'HIT'));
    await cacheDb.flushdb();
    const bigger = await serveAll(stack.url, (id) => `/avatar/${id}.png?size=256`);
    expect(bigger.statuses).toEqual(CONTACTS.map(() => 'ok'));
    expect(calls(stack)).toBe(4);
    expect(stack.images.downloads()).toBe(4);
    // Sources live in the durable store only; Redis keeps the records and their thumbnails.
    expect(await cacheDb.keys(`${stack.config.redis.keyPrefix}:src:*`)).toEqual([]);
  });

  it('serves them from a restarted service on an empty cache Redis with no GetAvatar call', async () => {
    await cacheDb.flushdb();
    const logs = new Writable({ write: (_chunk, _encoding, done) => done() });
    const restarted: Runtime = await startRuntime(stack.config, 'all', createLogger('silent', logs));
    try {
      await restarted.ready;
      const served = await serveAll(restarted.url, (id) => `/avatar/${id}.webp`);
      expect(served.statuses).toEqual(CONTACTS.map(() => 'ok'));
      expect(calls(stack)).toBe(4);
      expect(stack.images.downloads()).toBe(4);
    } finally {
      await restarted.close();
    }
  });

  // s3rver can be stopped and started again on its port; a folder cannot fail on demand.
  if (kind === 's3')
  it('keeps serving while the store fails, and reports it', async () => {
    if (!s3) throw new Error('no S3 server');
    await s3.stop();
    try {
      const hit = await get(stack.url, `/avatar/${CONTACTS[0]}.webp`);
      expect(hit.headers['x-avatar-status']).toBe('ok');
      stack.green.set('11008000009@c.us', { kind: 'avatar', url: await stack.images.add('while-down', { seed: 79 }) });
      const fresh = await get(stack.url, '/avatar/11008000009.webp');
      expect(fresh.headers['x-avatar-status']).toBe('ok');
      expect((await readyz(stack.url, ADMIN)).body.storage).toMatch(/^failing \(/);
      expect((await readyz(stack.url, ADMIN)).status).toBe(200);
      expect(stack.logs.filter((l) => String(l.msg).startsWith('storage: failing'))).toHaveLength(1);
      expect(await metricValue(stack.url, 'avatar_storage_operations_total', { outcome: 'error' })).toBeGreaterThan(0);
      // Erasure cannot be done now: the caller is told so, and to try again.
      const forget = await request(stack.url).delete(`/v1/avatars/${CONTACTS[1]}`).set({ Authorization: `Bearer ${ADMIN}` });
      expect([forget.status, forget.body.error.code, forget.headers['retry-after']]).toEqual([503, 'storage_unavailable', '30']);
    } finally {
      await s3.start();
    }
    // The writes that failed are made again in the background: then the new contact survives a flush too.
    const bucket = createS3Store({ bucket: s3.bucket, prefix: 'deploy', endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, timeoutMs: 2000 }, stack.config.redis.keyPrefix);
    await eventually(async () => (await bucket.list('records/', { limit: 10 })).length === CONTACTS.length + 1, 15_000, 200);
    await cacheDb.flushdb();
    expect((await get(stack.url, '/avatar/11008000009.webp')).headers['x-cache']).toBe('HIT');
    expect(stack.green.callsFor('11008000009@c.us')).toBe(1);
    expect(stack.logs.filter((l) => l.msg === 'storage: working again')).toHaveLength(1);
  });

  // Bytes are looked for in the folder's files (the contract test erases from both stores).
  if (kind !== 's3')
  it('erases a forgotten contact from the store: no byte of a picture no one else shows is left', async () => {
    const bytes = await makeJpeg(70);
    const holding = () => filesUnder(stack.storageDir).filter((f) => f.bytes.includes(bytes.subarray(200, 400)));
    expect(holding()).toHaveLength(1);
    const auth = { Authorization: `Bearer ${ADMIN}` };
    expect((await request(stack.url).delete(`/v1/avatars/${CONTACTS[0]}`).set(auth)).status).toBe(204);
    expect(holding()).toHaveLength(0);
    expect(filesUnder(join(stack.storageDir, 'records'))).toHaveLength(CONTACTS.length - 1);

    // The picture two contacts show stays until the second forgets it.
    const shared = await makeJpeg(72);
    const sharedFiles = () => filesUnder(stack.storageDir).filter((f) => f.bytes.includes(shared.subarray(200, 400)));
    await request(stack.url).delete(`/v1/avatars/${CONTACTS[2]}`).set(auth);
    expect(sharedFiles()).toHaveLength(1);
    await request(stack.url).delete(`/v1/avatars/${CONTACTS[3]}`).set(auth);
    expect(sharedFiles()).toHaveLength(0);

    // And the next request looks the contact up again: one new GetAvatar call.
    const before = stack.green.callsFor(`${CONTACTS[0]}@c.us`);
    expect((await get(stack.url, `/avatar/${CONTACTS[0]}.webp`)).headers['x-avatar-status']).toBe('ok');
    expect(stack.green.callsFor(`${CONTACTS[0]}@c.us`)).toBe(before + 1);
  });
});

describe('retention (STORAGE_RETENTION_DAYS)', () => {
  it('removes contacts neither served nor refreshed for that long, with their pictures, and keeps the others', async () => {
    const clock = new ManualClock();
    const stack = await startStack({ clock: clock.now, env: { STORAGE_RETENTION_DAYS: '2', MEMORY_CACHE_MB: '0' } });
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const maintenance = new Queue(QUEUE_NAMES.maintenance, { connection, prefix: stack.config.redis.queuePrefix });
    try {
      const [served, forgotten] = ['11008100001', '11008100002'];
      for (const [i, id] of [served, forgotten].entries()) {
        stack.green.set(`${id}@c.us`, { kind: 'avatar', url: await stack.images.add(`kept-${i}`, { seed: 90 + i }) });
        expect((await get(stack.url, `/avatar/${id}.webp`)).headers['x-avatar-status']).toBe('ok');
      }
      const sources = () => readdirSync(join(stack.storageDir, 'sources'));
      expect(sources()).toHaveLength(2);

      // Two days on, one of them is asked for: served stale, and refreshed.
      clock.advance(2 * 86_400);
      expect((await get(stack.url, `/avatar/${served}.webp`)).headers['x-cache']).toBe('STALE');
      // Fresh again once the refresh is stored (the durable record is written before Redis's).
      await eventually(async () => (await get(stack.url, `/avatar/${served}.webp`)).headers['x-cache'] === 'HIT', 10_000);
      expect(stack.green.callsFor(`${served}@c.us`)).toBe(2);
      clock.advance(1.5 * 86_400);

      await maintenance.add(RETENTION_SCHEDULER, {});
      await eventually(() => readdirSync(join(stack.storageDir, 'records')).length === 1, 10_000);
      expect(sources()).toHaveLength(1);
      expect(readFileSync(join(stack.storageDir, 'sources', sources()[0]!)).equals(await makeJpeg(90))).toBe(true);
    } finally {
      await maintenance.close();
      await connection.quit();
      await stack.close();
    }
  });
});

describe('upgrading from a version that kept sources in Redis', () => {
  it('serves its contacts, new sizes with no download, and moves each source to the durable store on first use', async () => {
    const before = await startStack({ env: { STORAGE_URL: 'none' } });
    const chatId = '11008200001@c.us';
    before.green.set(chatId, { kind: 'avatar', url: await before.images.add('upgraded', { seed: 95 }) });
    const old = await get(before.url, '/avatar/11008200001.webp');
    const prefix = before.config.redis.keyPrefix;
    const [sourceKey] = await before.redis.keys(`${prefix}:src:*`);
    expect(sourceKey).toBeDefined();

    const upgraded = await startRuntime({ ...before.config, storage: { ...before.config.storage, target: { kind: 'file', dir: TEST_STORAGE_DIR } } }, 'all', createLogger('silent'));
    try {
      await upgraded.ready;
      expect((await get(upgraded.url, '/avatar/11008200001.webp')).headers.etag).toBe(old.headers.etag);
      const bigger = await get(upgraded.url, '/avatar/11008200001.png?size=256');
      expect(bigger.headers['x-avatar-status']).toBe('ok');
      expect(before.images.downloads('upgraded')).toBe(1);
      expect(before.green.callsFor(chatId)).toBe(1);
      await eventually(async () => (await before.redis.exists(sourceKey!)) === 0);
      const moved = readFileSync(join(before.storageDir, 'sources', sourceKey!.slice(`${prefix}:src:`.length)));
      expect(moved.equals(await makeJpeg(95))).toBe(true);
    } finally {
      await upgraded.close();
      await before.close();
    }
  });
});

describe('an S3 store in a real process', () => {
  it('keeps stdout JSON lines and stderr empty (the AWS SDK says nothing of its own)', async () => {
    const [fakes, s3] = await Promise.all([startFakes(), startS3Server()]);
    const service = spawnService({ ...fakeUpstreamEnv(fakes, fakes.prefix), ...s3.env() });
    try {
      const url = await service.ready();
      fakes.green.set('11008300001@c.us', { kind: 'avatar', url: await fakes.images.add('in-a-process') });
      expect((await get(url, '/avatar/11008300001.webp')).headers['x-avatar-status']).toBe('ok');
      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
      expect(service.stderr.join('')).toBe('');
      expect(service.stdout.length).toBeGreaterThan(1);
      for (const line of service.stdout) expect(() => JSON.parse(line)).not.toThrow();
    } finally {
      service.child.kill('SIGKILL');
      await Promise.all([fakes.close(), s3.close()]);
    }
  });
});

describe('a STORAGE_URL that cannot be used', () => {
  it('stops the start with one JSON line naming it, exit code 1', async () => {
    // A folder below a file: no process, root or not, can create it.
    const file = join(mkdtempSync(join(tmpdir(), 'not-a-folder-')), 'file');
    writeFileSync(file, '');
    const service = spawnService({ REDIS_URL, GREEN_API_ID_INSTANCE: '1101000001', GREEN_API_TOKEN_INSTANCE: 'token', PORT: '0', STORAGE_URL: `file:${file}/data` });
    expect(await service.exited).toBe(1);
    expect(service.stderr.join('')).toBe('');
    expect(service.stdout).toHaveLength(1);
    const line = JSON.parse(service.stdout[0]!) as { level: number; msg: string };
    expect(line.msg).toBe(`STORAGE_URL file:${file}/data cannot be used: ENOTDIR writing in ${file}/data/avatar-cdn`);
  });
});
