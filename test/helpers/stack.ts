import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import type { Clock } from '../../src/clock';
import { loadConfig, type Config, type Env } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startRuntime, type Role } from '../../src/runtime';
import { FakeGreenApi } from '../fakes/green-api';
import { FakeImageHost } from '../fakes/image-host';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The durable store of test services: one folder, a sub-folder per key prefix (as a deployment shares one). */
export const TEST_STORAGE_DIR = join(tmpdir(), 'avatar-cdn-test-storage');

export interface Stack {
  url: string;
  config: Config;
  green: FakeGreenApi;
  images: FakeImageHost;
  /** A plain connection for looking at (and changing) what the service stored. */
  redis: Redis;
  /** Every log line the service wrote, parsed. */
  logs: Record<string, unknown>[];
  /** The folder of the service's durable store (STORAGE_URL file:), for looking at what it keeps. */
  storageDir: string;
  close(): Promise<void>;
}

export interface StackOptions {
  env?: Env;
  role?: Role;
  /** The service's clock (default: the system's), so days of freshness can pass in a test. */
  clock?: Clock;
}

/** A clock that moves only when told to. */
export class ManualClock {
  constructor(public ms = Date.now()) {}
  readonly now: Clock = () => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

/** Deletes every key under a prefix (test isolation). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

/**
 * The settings of a service that talks to the fake upstreams on loopback, under its own key prefix,
 * listening on ephemeral ports. Tests, child processes and the bench all start from this.
 */
export function fakeUpstreamEnv({ green, images }: { green: FakeGreenApi; images: FakeImageHost }, prefix: string, redisUrl = REDIS_URL): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    KEY_PREFIX: prefix,
    STORAGE_URL: `file:${TEST_STORAGE_DIR}`,
    HOST: '127.0.0.1',
    PORT: '0',
    WORKER_PORT: '0',
    GREEN_API_URL: green.url,
    GREEN_API_ID_INSTANCE: green.idInstance,
    GREEN_API_TOKEN_INSTANCE: green.apiToken,
    // The fake image host's own port: an entry without one allows only the scheme's default port.
    AVATAR_SOURCE_HOSTS: new URL(images.url).host,
    AVATAR_SOURCE_ALLOW_HTTP: 'true',
    AVATAR_SOURCE_ALLOW_PRIVATE: 'true',
  };
}

export interface Fakes {
  green: FakeGreenApi;
  images: FakeImageHost;
  /** A key prefix of its own. */
  prefix: string;
  /** Stops the fakes and deletes the prefix's keys and stored files. */
  close(): Promise<void>;
}

/** The fake upstreams and a fresh key prefix, for services a test runs as child processes. */
export async function startFakes(): Promise<Fakes> {
  const green = new FakeGreenApi();
  const images = new FakeImageHost();
  await Promise.all([green.start(), images.start()]);
  const prefix = `test-${randomBytes(4).toString('hex')}`;
  return {
    green,
    images,
    prefix,
    async close() {
      await Promise.all([green.close(), images.close()]);
      const redis = new Redis(REDIS_URL);
      await deletePrefix(redis, prefix);
      await redis.quit();
      rmSync(join(TEST_STORAGE_DIR, prefix), { recursive: true, force: true });
    },
  };
}

/**
 * The whole service as production wires it (real Redis, BullMQ, sharp, HTTP), against fake upstreams on
 * loopback, under a key prefix of its own.
 */
export async function startStack({ env = {}, role = 'all', clock }: StackOptions = {}): Promise<Stack> {
  const fakes = await startFakes();
  const { green, images } = fakes;
  const config = loadConfig({ ...fakeUpstreamEnv(fakes, fakes.prefix), LOG_LEVEL: 'debug', GREEN_API_RATE_PER_SEC: '1000', ...env });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const runtime = await startRuntime(config, role, createLogger(config.logLevel, sink), clock);
  await runtime.ready;
  const redis = new Redis(REDIS_URL);
  return {
    url: runtime.url ?? '',
    config,
    green,
    images,
    redis,
    logs,
    storageDir: join(TEST_STORAGE_DIR, fakes.prefix),
    async close() {
      await runtime.close();
      await fakes.close();
      await redis.quit();
    },
  };
}

/** Polls until `check` holds, at most `timeoutMs`; for effects that have no event to await. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000, everyMs = 20): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
