import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContactRecord } from '../../src/avatar/store';
import { loadConfig } from '../../src/config';
import { sha256 } from '../../src/images/render';
import type { BlobStore } from '../../src/storage/blob-store';
import { openDurableAvatars } from '../../src/storage/durable-avatars';
import { createFileStore } from '../../src/storage/file-store';
import { openBlobStore } from '../../src/storage/open-storage';
import { createS3Store } from '../../src/storage/s3-store';
import { startS3Server, type S3Server } from '../helpers/s3-server';

/** One contract, two stores: a folder, and a bucket on a real S3 protocol server. */
let s3: S3Server;
let folder: string;

beforeAll(async () => {
  s3 = await startS3Server();
  folder = mkdtempSync(join(tmpdir(), 'storage-contract-'));
});

afterAll(async () => {
  await s3.close();
  rmSync(folder, { recursive: true, force: true });
});

const stores: [string, (prefix: string) => BlobStore][] = [
  ['file', (prefix) => createFileStore(folder, prefix)],
  ['s3', (prefix) => createS3Store({ bucket: s3.bucket, prefix: 'deploy', endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, timeoutMs: 2000 }, prefix)],
];

const picture = (hash: string, at: number): ContactRecord => ({
  status: 'ok',
  url: 'https://pps.whatsapp.net/v/t61/1_n.jpg?oe=6900AAAA',
  hash,
  resolvedAt: at,
  freshUntil: at + 86_400_000,
  urlExpiresAt: at + 3_600_000,
  lifetime: 86_400,
  changedAt: at,
});

describe.each(stores)('%s store', (_kind, make) => {
  let store: BlobStore;
  beforeEach(() => {
    store = make(`contract-${randomBytes(4).toString('hex')}`);
  });

  it('keeps bytes by name, says what it has, removes what it is told, and lists a folder in order', async () => {
    await store.check();
    expect(await store.get('sources/none')).toBeUndefined();
    expect(await store.has('sources/none')).toBe(false);
    await store.put('users/h/b', Buffer.from('2'));
    await store.put('users/h/a', Buffer.from('1'));
    await store.put('users/h/c', Buffer.from('3'));
    await store.put('users/h/a', Buffer.from('one'));
    expect((await store.get('users/h/a'))?.toString()).toBe('one');
    expect(await store.has('users/h/a')).toBe(true);
    expect(await store.list('users/h/', { limit: 10 })).toEqual(['users/h/a', 'users/h/b', 'users/h/c']);
    expect(await store.list('users/h/', { after: 'users/h/a', limit: 1 })).toEqual(['users/h/b']);
    expect(await store.list('users/other/', { limit: 10 })).toEqual([]);
    await store.delete(['users/h/a', 'users/h/missing']);
    expect(await store.list('users/h/', { limit: 10 })).toEqual(['users/h/b', 'users/h/c']);
  });

  it('writes a first version once: a second putNew keeps the first', async () => {
    expect(await store.putNew('naming-key', Buffer.from('first'))).toBe(true);
    expect(await store.putNew('naming-key', Buffer.from('second'))).toBe(false);
    expect((await store.get('naming-key'))?.toString()).toBe('first');
  });

  it('names records without the number, erases a contact with its unshared picture, keeps a shared one', async () => {
    const durable = await openDurableAvatars(store);
    const bytes = randomBytes(2000);
    const hash = sha256(bytes);
    await durable.putSource(hash, bytes);
    await durable.putVariant(hash, { size: 128, format: 'webp' }, Buffer.from('thumb'));
    await durable.putInfo(hash, { color: '#112233', thumbhash: 'x', placeholder: 'data:', width: 640, height: 640 });
    await durable.writeRecord('11001234567@c.us', picture(hash, 1000));
    await durable.writeRecord('11007654321@c.us', picture(hash, 1000));
    expect(await durable.readRecord('11001234567@c.us')).toEqual(picture(hash, 1000));
    const names = await store.list('records/', { limit: 10 });
    expect(names).toHaveLength(2);
    expect(names.join(' ')).not.toMatch(/1100/);

    await durable.erase('11001234567@c.us');
    expect(await durable.readRecord('11001234567@c.us')).toBeUndefined();
    expect((await durable.getSource(hash))?.equals(bytes)).toBe(true);

    await durable.erase('11007654321@c.us');
    expect(await durable.getSource(hash)).toBeUndefined();
    expect(await durable.getVariant(hash, { size: 128, format: 'webp' })).toBeUndefined();
    expect(await durable.getInfo(hash)).toBeUndefined();
    expect(await store.list(`variants/${hash}/`, { limit: 10 })).toEqual([]);
  });

  it('drops the old picture when a contact changes to a new one, and never lets an older record replace a newer', async () => {
    const durable = await openDurableAvatars(store);
    const [oldBytes, newBytes] = [randomBytes(500), randomBytes(500)];
    const [oldHash, newHash] = [sha256(oldBytes), sha256(newBytes)];
    await durable.putSource(oldHash, oldBytes);
    await durable.writeRecord('11001234567@c.us', picture(oldHash, 1000));
    await durable.putSource(newHash, newBytes);
    await durable.writeRecord('11001234567@c.us', picture(newHash, 2000));
    expect(await durable.getSource(oldHash)).toBeUndefined();
    await durable.writeRecord('11001234567@c.us', picture(oldHash, 1500));
    expect((await durable.readRecord('11001234567@c.us'))?.hash).toBe(newHash);
  });

  it('treats a blob whose bytes do not match its name as missing, and removes it', async () => {
    const durable = await openDurableAvatars(store);
    const bytes = randomBytes(300);
    const hash = sha256(bytes);
    await store.put(`sources/${hash}`, randomBytes(300));
    expect(await durable.getSource(hash)).toBeUndefined();
    expect(await store.has(`sources/${hash}`)).toBe(false);
    await durable.putVariant(hash, { size: 64, format: 'png' }, Buffer.from('good'));
    const [name] = await store.list(`variants/${hash}/`, { limit: 1 });
    const stored = (await store.get(name!))!;
    stored[stored.length - 1] ^= 0xff;
    await store.put(name!, stored);
    expect(await durable.getVariant(hash, { size: 64, format: 'png' })).toBeUndefined();
    await store.put('records/garbled.json', Buffer.from('{"v":1,'));
    expect((await durable.sweep({ staleBefore: 0, limit: 10 })).removed).toBe(1);
  });

  it('retention removes records stale since before the window, with their pictures, a bounded number per run', async () => {
    const durable = await openDurableAvatars(store);
    const day = 86_400_000;
    for (let i = 0; i < 5; i++) {
      const bytes = randomBytes(100);
      await durable.putSource(sha256(bytes), bytes);
      // Two served lately (fresh until day 100), three last fresh on day 1.
      await durable.writeRecord(`1100000000${i}@c.us`, { ...picture(sha256(bytes), i < 2 ? 99 * day : 0), lifetime: 86_400, freshUntil: 0 });
    }
    const first = await durable.sweep({ staleBefore: 50 * day, limit: 3 });
    expect(first.examined).toBe(3);
    const second = await durable.sweep({ staleBefore: 50 * day, after: first.next, limit: 3 });
    expect(second.next).toBeUndefined();
    expect(first.removed + second.removed).toBe(3);
    expect(await store.list('records/', { limit: 10 })).toHaveLength(2);
    expect(await store.list('sources/', { limit: 10 })).toHaveLength(2);
  });
});

describe('STORAGE_URL at start', () => {
  const storage = (env: Record<string, string>) => loadConfig({ GREEN_API_ID_INSTANCE: '1', GREEN_API_TOKEN_INSTANCE: 't', ...env }).storage;

  it('creates the folder, and names what cannot be used in one line', async () => {
    const dir = join(folder, 'new', 'data');
    await openBlobStore(storage({ STORAGE_URL: `file:${dir}` }), 'avatar-cdn');
    expect(readdirSync(join(dir))).toEqual(['avatar-cdn']);

    const file = join(folder, 'a-file');
    writeFileSync(file, '');
    await expect(openBlobStore(storage({ STORAGE_URL: `file:${file}` }), 'avatar-cdn')).rejects.toThrow(/^STORAGE_URL file:.* cannot be used: (ENOTDIR|EEXIST)/);
    await expect(openBlobStore(storage({ STORAGE_URL: 's3://no-such-bucket', S3_ENDPOINT: s3.endpoint }), 'avatar-cdn')).rejects.toThrow(
      'STORAGE_URL s3://no-such-bucket cannot be used: the bucket does not exist',
    );
    expect(await openBlobStore(storage({ STORAGE_URL: 'none' }), 'avatar-cdn')).toBeUndefined();
    // An endpoint that takes the connection and never answers: the check is bounded.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket)).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      await expect(openBlobStore(storage({ STORAGE_URL: 's3://avatars', S3_ENDPOINT: endpoint, STORAGE_TIMEOUT_MS: '300' }), 'avatar-cdn')).rejects.toThrow(
        `STORAGE_URL s3://avatars/avatar-cdn/ at ${endpoint} cannot be used: no answer in 300 ms (STORAGE_TIMEOUT_MS)`,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('refuses an unknown scheme by name', () => {
    expect(() => storage({ STORAGE_URL: 'ftp://x' })).toThrow('STORAGE_URL is invalid: none, file:<path> (e.g. file:./data) or s3://<bucket>[/<prefix>]');
    expect(storage({ STORAGE_URL: 's3://avatars/cdn/eu', S3_ENDPOINT: 'http://127.0.0.1:9000' }).target).toEqual({
      kind: 's3',
      bucket: 'avatars',
      prefix: 'cdn/eu',
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      forcePathStyle: true,
    });
    expect(storage({}).target).toEqual({ kind: 'file', dir: './data' });
  });
});
