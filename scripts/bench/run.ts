/**
 * `npm run bench`: avatar-cdn against baselines measured in the same run, on loopback, real Redis, fake
 * upstreams with zero latency. Servers run in their own processes; HTTP load comes from wrk (C, one thread), and
 * autocannon only where a request must wait for the previous one (miss latency).
 * Prints one table and writes it, with the machine's description, to BENCHMARKS.md.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { createKeys } from '../../src/avatar/keys';
import { storedVariant, variantField } from '../../src/avatar/store';
import { distinctBody } from './distinct-body';
import { photoLike } from './photos';
import { economyTable, runEconomies } from './economy';
import sharp from 'sharp';
import { FakeGreenApi } from '../../test/fakes/green-api';
import { FakeImageHost } from '../../test/fakes/image-host';
import { spawnService, type ServiceProcess } from '../../test/helpers/service-process';
import { deletePrefix, fakeUpstreamEnv, TEST_STORAGE_DIR } from '../../test/helpers/stack';
import { makeJpeg } from '../../test/fakes/image-host';
import { freePort } from '../../test/helpers/redis-server';
import { ensureWrk, wrkLoad, type LoadResult } from './wrk';

const ROOT = path.resolve(__dirname, '../..');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
/** Distinct avatars in the random-order hot-hit scenarios (BENCH_DISTINCT=3000 for fewer). */
const DISTINCT_COUNTS = (process.env.BENCH_DISTINCT ?? '3000,50000').split(',').map(Number);
const DISTINCT_BASE = 11400000000;
const COLD_BASE = 11100000000;
const WARM_UP_BASE = 11150000000;
const CONNECTIONS = 64;

interface Row {
  scenario: string;
  rps?: number;
  p50?: number;
  p99?: number;
  note: string;
}
const rows: Row[] = [];

async function load(url: string, options: { headers?: Record<string, string>; paths?: string[] } = {}): Promise<LoadResult> {
  return wrkLoad(url, { connections: CONNECTIONS, seconds: DURATION, ...options });
}


/**
 * Load until the rate settles (within 10% of the round before; at most 4 rounds), so a row measures the steady
 * state: over 50,000 avatars, the memory cache fills and the rate still climbs for 10-15 s after the first pass.
 */
async function warmUp(url: string, options: { paths?: string[] }): Promise<void> {
  let previous = 0;
  for (let round = 0; round < 4; round++) {
    const rate = (await load(url, options)).requests.average;
    if (previous > 0 && Math.abs(rate - previous) <= 0.1 * previous) return;
    previous = rate;
  }
}

/** The headers of the service's hot hit, which every baseline sends (see hitHeaders). */
let baselineHeaders: Record<string, string> = {};

/** A baseline server in its own process: `file` is the body to send, or for ipx the directory it renders from. */
function baseline(kind: 'http' | 'express' | 'http-distinct' | 'http-redis' | 'ipx' | 'cold-floor', file: string, ...args: string[]): Promise<{ url: string; pid: number; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'baselines.ts'), kind, file, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_HEADERS: JSON.stringify(baselineHeaders) },
  });
  return new Promise((resolve) => {
    child.stdout.once('data', (chunk: Buffer) => {
      const { port } = JSON.parse(chunk.toString()) as { port: number };
      resolve({ url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => child.kill('SIGTERM') });
    });
  });
}

/** What Node adds to every response itself; the rest is what the service chose to send. */
const NODE_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

/** The headers of the service's hot hit, for the baselines to send the same (their own content-length). */
function hitHeaders(hit: Response): Record<string, string> {
  if (hit.headers.get('x-cache') !== 'HIT') throw new Error(`bench: the second request was not a memory hit (X-Cache ${hit.headers.get('x-cache')})`);
  return Object.fromEntries([...hit.headers].filter(([name]) => !NODE_HEADERS.has(name)));
}

/** CPU time a process has used so far, user + system, in seconds. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A load run, with the CPU time the server process `pid` spent per request meanwhile. */
async function measured(pid: number, run: () => Promise<LoadResult>): Promise<LoadResult & { cpuUs: number }> {
  const before = cpuSeconds(pid);
  const result = await run();
  return { ...result, cpuUs: ((cpuSeconds(pid) - before) * 1e6) / result.requests.total };
}

/** Peak resident memory of a process, MB (VmHWM). */
function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'))!;
  return Math.round(Number(line.split(/\s+/)[1]) / 1024);
}

/** Rounds of cold work (disjoint parts of the contacts). */
const ROUNDS = 3;
/**
 * Rounds of each hit load against its baselines: on this shared 2-core VM the same server reads 30% apart from
 * one round to the next, so more rounds than the cold work's (which are costlier).
 */
const HIT_ROUNDS = 5;
/** Rounds of each load, interleaved (a b c, a b c, ...), and for each the round with the median rate. */
async function interleaved<R extends Record<string, LoadResult>>(runs: { [K in keyof R]: () => Promise<R[K]> }, rounds = HIT_ROUNDS): Promise<R> {
  const results = Object.fromEntries(Object.keys(runs).map((k) => [k, [] as LoadResult[]])) as Record<keyof R, LoadResult[]>;
  for (let round = 0; round < rounds; round++) for (const k of Object.keys(runs) as (keyof R)[]) results[k].push(await runs[k]());
  const median = (rounds: LoadResult[]) => [...rounds].sort((a, b) => a.requests.average - b.requests.average)[rounds.length >> 1]!;
  return Object.fromEntries(Object.entries(results).map(([k, rounds]) => [k, median(rounds as LoadResult[])])) as R;
}

const fmt = (n: number | undefined, digits = 0) => (n === undefined ? '' : n.toFixed(digits));
/** A ratio beside its target, marked met or missed; with a third decimal when two would show a miss as the target. */
const target = (value: number, min: number) => {
  const shown = value < min && Number(value.toFixed(2)) >= min ? value.toFixed(3) : value.toFixed(2);
  return `${shown}x (target >= ${min}x: ${value >= min ? 'met' : 'MISSED'})`;
};
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

/** Every key of a prefix matching `pattern` (`meta:*`), deleted: the cache's keys, not the queues'. */
async function deleteMatching(redis: Redis, prefix: string, pattern: string): Promise<number> {
  let [cursor, deleted] = ['0', 0];
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:${pattern}`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** Contacts known to the durable-store rows. */
const KNOWN_N = 1000;
const KNOWN_BASE = 11600000000;

/**
 * The two tiers (issue "Avatars that outlive Redis"): Redis bytes per contact with a picture, and 1,000 known
 * contacts served from Redis, then again after the cache Redis lost them (from the durable store, a folder), with
 * the upstream calls and downloads that cost (want 0 and 0).
 */
async function durableRows(env: Record<string, string>, redis: Redis): Promise<void> {
  const prefix = `${env.KEY_PREFIX}-known`;
  const green = new FakeGreenApi();
  const images = new FakeImageHost();
  await Promise.all([green.start(), images.start()]);
  for (let i = 0; i < KNOWN_N; i++) green.set(`${KNOWN_BASE + i}@c.us`, { kind: 'avatar', url: await images.add(`known-${i}`, { bytes: await makeJpeg(20_000 + i) }) });
  const service = spawnService({ ...env, ...fakeUpstreamEnv({ green, images }, prefix, REDIS_URL), LOG_LEVEL: 'info', GREEN_API_RATE_PER_SEC: '1000', MISS_RATE_PER_MIN: '0', RENDER_RATE_PER_MIN: '0', MISS_WAIT_MS: '10000', MEMORY_CACHE_MB: '0' }, [], { built: true });
  try {
    const url = await service.ready();
    const all = Array.from({ length: KNOWN_N }, (_, i) => `/avatar/${KNOWN_BASE + i}.webp`);
    /** Each path once, 16 in flight: requests a second and latencies. */
    const each = async () => {
      let next = 0;
      const times: number[] = [];
      const started = performance.now();
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < all.length) {
            const t = performance.now();
            const res = await fetch(`${url}${all[next++]!}`);
            await res.arrayBuffer();
            if (res.headers.get('x-avatar-status') !== 'ok') throw new Error(`${res.url}: ${res.headers.get('x-avatar-status')} among known contacts`);
            times.push(performance.now() - t);
          }
        }),
      );
      times.sort((a, b) => a - b);
      return { rate: all.length / ((performance.now() - started) / 1000), p50: times[times.length >> 1]!, p99: times[Math.floor(times.length * 0.99)]! };
    };
    await each(); // cold: resolved, downloaded, rendered, stored in both tiers
    const sourceKb = Math.round((await Promise.all(Array.from({ length: 20 }, (_, i) => makeJpeg(20_000 + i)))).reduce((n, b) => n + b.length, 0) / 20 / 1024);
    let bytes = 0;
    for (let i = 0; i < KNOWN_N; i++) {
      const meta = `${prefix}:meta:{${KNOWN_BASE + i}@c.us}`;
      bytes += Number(await redis.call('MEMORY', 'USAGE', meta, 'SAMPLES', '0'));
    }
    for (const key of (await redis.keys(`${prefix}:info:*`)).concat(await redis.keys(`${prefix}:src:*`))) bytes += Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
    const perContact = bytes / KNOWN_N / 1024;
    rows.push({ scenario: `Redis memory per contact with a picture (${KNOWN_N.toLocaleString('en')} contacts, 640 px JPEGs of ~${sourceKb} KB; record, default thumbnail, picture info)`, note: `${perContact.toFixed(1)} KB (target <= 8 KB: ${perContact <= 8 ? 'met' : 'MISSED'}); sources in the durable store only` });

    const fromRedis = await each();
    const [callsBefore, downloadsBefore] = [green.calls.length, images.downloads()];
    await deleteMatching(redis, prefix, 'meta:*');
    await deleteMatching(redis, prefix, 'info:*');
    const fromStore = await each();
    const [calls, downloads] = [green.calls.length - callsBefore, images.downloads() - downloadsBefore];
    rows.push({ scenario: `${KNOWN_N.toLocaleString('en')} known contacts from Redis (MEMORY_CACHE_MB=0), each once, 16 in flight`, rps: fromRedis.rate, p50: fromRedis.p50, p99: fromRedis.p99, note: 'requests/s' });
    rows.push({
      scenario: `the same ${KNOWN_N.toLocaleString('en')} contacts after the cache Redis lost them: read from the durable store (file:) and put back`,
      rps: fromStore.rate,
      p50: fromStore.p50,
      p99: fromStore.p99,
      note: `${ratio(fromStore.rate, fromRedis.rate)} from Redis; GetAvatar calls ${calls}, downloads ${downloads} (target 0 and 0: ${calls === 0 && downloads === 0 ? 'met' : 'MISSED'})`,
    });
  } finally {
    service.child.kill('SIGTERM');
    await service.exited;
    await Promise.all([green.close(), images.close()]);
    await deletePrefix(redis, prefix);
    rmSync(path.join(TEST_STORAGE_DIR, prefix), { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  ensureWrk();
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const redis = new Redis(REDIS_URL);
  const serverInfo = await redis.info('server');
  const redisVersion = /redis_version:(\S+)/.exec(serverInfo)?.[1] ?? '?';
  // Redis's own CPU time, when it runs on this machine (NaN, printed as such, when it does not).
  const redisPid = Number(/process_id:(\d+)/.exec(serverInfo)?.[1]);
  const redisCpuSeconds = () => (existsSync(`/proc/${redisPid}/stat`) ? cpuSeconds(redisPid) : NaN);
  const green = new FakeGreenApi();
  const images = new FakeImageHost();
  await Promise.all([green.start(), images.start()]);
  const face = await images.add('face', { seed: 11 });
  green.setFallback({ kind: 'avatar', url: face });
  green.set('11000000000@c.us', { kind: 'not-on-whatsapp' });
  const prefix = `bench-${randomBytes(3).toString('hex')}`;
  const env = {
    ...fakeUpstreamEnv({ green, images }, prefix, REDIS_URL),
    // `ready()` waits for the service's "avatar-cdn started" info line, then for /readyz.
    LOG_LEVEL: 'info',
    GREEN_API_RATE_PER_SEC: '1000',
    MISS_RATE_PER_MIN: '0',
    // The bench measures throughput from one client: per-client budgets off.
    RENDER_RATE_PER_MIN: '0',
    MISS_WAIT_MS: '10000',
    REFRESH_AHEAD_SECONDS: '0',
    // The service's defaults, unless the environment names others to compare.
    ...(process.env.WORKER_CONCURRENCY ? { WORKER_CONCURRENCY: process.env.WORKER_CONCURRENCY } : {}),
    ...(process.env.RENDER_CONCURRENCY ? { RENDER_CONCURRENCY: process.env.RENDER_CONCURRENCY } : {}),
  };
  const services: ServiceProcess[] = [];
  const stops: (() => void)[] = [];
  try {
    // --- hits against baselines ---
    const service = spawnService(env, [], { built: true });
    services.push(service);
    const base = await service.ready();
    const hot = `${base}/avatar/11001234567.webp`;
    const first = await fetch(hot);
    const body = Buffer.from(await first.arrayBuffer());
    const etag = first.headers.get('etag')!;
    const second = await fetch(hot);
    await second.arrayBuffer();
    baselineHeaders = hitHeaders(second);
    const bodyFile = path.join(tmpdir(), `bench-avatar-${prefix}.webp`);
    writeFileSync(bodyFile, body);

    const bareHttp = await baseline('http', bodyFile);
    stops.push(bareHttp.stop);
    const bareExpress = await baseline('express', bodyFile);
    stops.push(bareExpress.stop);
    const httpRedis = await baseline('http-redis', bodyFile, `${prefix}:floor`);
    stops.push(httpRedis.stop);
    const redisOnly = spawnService({ ...env, MEMORY_CACHE_MB: '0' }, [], { built: true });
    services.push(redisOnly);
    const redisBase = await redisOnly.ready();
    // The targets compare these: their rounds are interleaved, so a slow moment of the machine falls on all.
    const { http, floor, hit, redisHit } = await interleaved({
      http: () => measured(bareHttp.pid, () => load(`${bareHttp.url}/avatar/11001234567.webp`)),
      floor: () => measured(httpRedis.pid, () => load(`${httpRedis.url}/avatar/11001234567.webp`)),
      hit: () => measured(service.child.pid!, () => load(hot)),
      redisHit: async () => {
        const redisCpuBefore = redisCpuSeconds();
        const result = await measured(redisOnly.child.pid!, () => load(`${redisBase}/avatar/11001234567.webp`));
        return { ...result, redisCpuUs: ((redisCpuSeconds() - redisCpuBefore) * 1e6) / result.requests.total };
      },
    });
    const redisCpuUs = redisHit.redisCpuUs;
    redisOnly.child.kill('SIGTERM');
    const bareHttpRss = peakRssMb(bareHttp.pid);
    const exp = await load(`${bareExpress.url}/avatar/11001234567.webp`);
    const notModified = await load(hot, { headers: { 'if-none-match': etag } });
    await fetch(`${base}/avatar/11000000000.webp`);
    const placeholder = await load(`${base}/avatar/11000000000.webp`);

    const twoApis = spawnService({ ...env, MEMORY_CACHE_MB: '64', API_PROCESSES: '2', PORT: String(await freePort()) }, [], { built: true });
    services.push(twoApis);
    const twoBase = await twoApis.ready();
    await fetch(`${twoBase}/avatar/11001234567.webp`);
    const twoHit = await load(`${twoBase}/avatar/11001234567.webp`);
    twoApis.child.kill('SIGTERM');

    const rps = (r: LoadResult) => r.requests.average;
    const vs = (r: LoadResult) => `${ratio(rps(r), rps(http))} bare http, ${ratio(rps(r), rps(exp))} bare Express`;
    rows.push({ scenario: `baseline: bare Node http, same bytes and headers (median of ${HIT_ROUNDS} rounds, interleaved with the floor and the two hits below)`, rps: rps(http), p50: http.latency.p50, p99: http.latency.p99, note: `1.00x; ${http.cpuUs.toFixed(0)} CPU-µs per request` });
    rows.push({ scenario: `baseline: bare Node http + one Redis GET per request, same bytes and headers (the least a Redis hit costs; median of ${HIT_ROUNDS})`, rps: rps(floor), p50: floor.latency.p50, p99: floor.latency.p99, note: `${ratio(rps(floor), rps(http))} bare http; ${floor.cpuUs.toFixed(0)} CPU-µs per request` });
    rows.push({ scenario: 'baseline: bare Express 5, same bytes and headers', rps: rps(exp), p50: exp.latency.p50, p99: exp.latency.p99, note: `${ratio(rps(exp), rps(http))} bare http` });
    rows.push({ scenario: `hot hit (in-process cache, fast path; median of ${HIT_ROUNDS})`, rps: rps(hit), p50: hit.latency.p50, p99: hit.latency.p99, note: `${target(rps(hit) / rps(http), 0.85)} bare http, ${ratio(rps(hit), rps(exp))} bare Express; ${hit.cpuUs.toFixed(0)} CPU-µs per request` });
    rows.push({ scenario: 'hot hit with API_PROCESSES=2 (node:cluster)', rps: rps(twoHit), p50: twoHit.latency.p50, p99: twoHit.latency.p99, note: `${ratio(rps(twoHit), rps(hit))} one API process` });
    rows.push({ scenario: '304 revalidation (If-None-Match)', rps: rps(notModified), p50: notModified.latency.p50, p99: notModified.latency.p99, note: `${vs(notModified)}, ${ratio(rps(notModified), rps(hit))} hot hit` });
    rows.push({ scenario: 'placeholder (cached not-on-WhatsApp)', rps: rps(placeholder), p50: placeholder.latency.p50, p99: placeholder.latency.p99, note: vs(placeholder) });
    rows.push({ scenario: `Redis hit (MEMORY_CACHE_MB=0: one Redis round trip, fast path; median of ${HIT_ROUNDS})`, rps: rps(redisHit), p50: redisHit.latency.p50, p99: redisHit.latency.p99, note: `${target(rps(redisHit) / rps(http), 0.5)} bare http, ${ratio(rps(redisHit), rps(floor))} bare http + Redis GET, ${ratio(rps(redisHit), rps(exp))} bare Express; ${redisHit.cpuUs.toFixed(0)} CPU-µs per request, and Redis ${redisCpuUs.toFixed(0)}` });

    // --- cold misses and new variants, over distinct photo-like sources ---
    const COLD_N = 300;
    /** Cold contacts served before the measured ones, and thumbnails made before raw sharp's: JIT and caches warm up. */
    const WARM_UP_N = 100;
    const photos = async (count: number, seed: number) => {
      const made: Buffer[] = [];
      for (let i = 0; i < count; i += 4) made.push(...(await Promise.all([0, 1, 2, 3].map((k) => photoLike(seed + i + k)))));
      return made.slice(0, count);
    };
    const [sources, warmUpSources] = [await photos(COLD_N, 1000), await photos(WARM_UP_N, 5000)];
    for (let i = 0; i < COLD_N; i++) green.set(`${COLD_BASE + i}@c.us`, { kind: 'avatar', url: await images.add(`photo-${i}`, { bytes: sources[i] }) });
    for (let i = 0; i < WARM_UP_N; i++) green.set(`${WARM_UP_BASE + i}@c.us`, { kind: 'avatar', url: await images.add(`warm-up-${i}`, { bytes: warmUpSources[i] }) });
    const sourceKb = Math.round(sources.reduce((n, b) => n + b.length, 0) / COLD_N / 1024);
    /**
     * The measured contacts in ROUNDS disjoint parts. Each round runs raw sharp, the service and the other
     * baselines over its part, one after the other, so a slow moment of the machine falls on all of them; a
     * ratio is the median of the rounds' ratios.
     */
    const parts = Array.from({ length: ROUNDS }, (_, r) => Array.from({ length: COLD_N / ROUNDS }, (_, k) => r * (COLD_N / ROUNDS) + k));
    const warmUps = Array.from({ length: WARM_UP_N }, (_, k) => k);
    type Render = (source: Buffer) => Promise<Buffer>;
    /** Raw sharp over the sources `indexes` (of `from`), 4 in flight in this process: thumbnails a second. */
    async function rawSharp(render: Render, indexes: number[], from = sources): Promise<{ rate: number }> {
      const started = performance.now();
      for (let i = 0; i < indexes.length; i += 4) await Promise.all(indexes.slice(i, i + 4).map((k) => render(from[k]!)));
      return { rate: indexes.length / ((performance.now() - started) / 1000) };
    }

    interface OnceEach {
      rate: number;
      times: number[];
      cpuMs: number;
    }
    /**
     * Each contact of `indexes` asked once at `path(i)`, 16 in flight: rate (to the last answer: autocannon's
     * `amount` ends on its one-second tick), latencies, and the server's CPU-ms per request.
     */
    async function onceEach(path: (i: number) => string, server: { url: string; pid: number }, indexes: number[]): Promise<OnceEach> {
      let next = 0;
      const times: number[] = [];
      const cpuBefore = cpuSeconds(server.pid);
      const started = performance.now();
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < indexes.length) {
            const t = performance.now();
            const res = await fetch(`${server.url}${path(indexes[next++]!)}`);
            await res.arrayBuffer();
            if (res.status !== 200) throw new Error(`${res.url}: ${res.status} during a cold scenario`);
            times.push(performance.now() - t);
          }
        }),
      );
      return { rate: indexes.length / ((performance.now() - started) / 1000), times, cpuMs: ((cpuSeconds(server.pid) - cpuBefore) * 1000) / indexes.length };
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
    /** The rounds of one scenario as one row's figures: the median rate, latencies over all requests, mean CPU. */
    function overRounds(rounds: OnceEach[]): { rate: number; p50: number; p99: number; cpuMs: number } {
      const times = rounds.flatMap((r) => r.times).sort((a, b) => a - b);
      const cpuMs = rounds.reduce((sum, r) => sum + r.cpuMs * r.times.length, 0) / times.length;
      return { rate: median(rounds.map((r) => r.rate)), p50: times[times.length >> 1]!, p99: times[Math.floor(times.length * 0.99)]!, cpuMs };
    }
    /** The median over rounds of a's rate / b's. */
    const roundsRatio = (a: { rate: number }[], b: { rate: number }[]) => median(a.map((x, r) => x.rate / b[r]!.rate));
    const serviceServer = { url: base, pid: service.child.pid! };

    // Cold contacts: raw sharp's thumbnail, the service end to end, and the same work through the least code
    // that does it (what any cold path costs here), round by round.
    const coldSharp: Render = (src) => sharp(src).resize(128, 128, { fit: 'cover' }).webp({ quality: 80, effort: 4 }).toBuffer();
    const coldFloor = await baseline('cold-floor', `${prefix}:floor`, `${green.url}/waInstance${green.idInstance}/getAvatar/${green.apiToken}`);
    stops.push(coldFloor.stop);
    const floorServer = { url: coldFloor.url, pid: coldFloor.pid };
    await rawSharp(coldSharp, warmUps, warmUpSources);
    await onceEach((i) => `/avatar/${WARM_UP_BASE + i}.webp`, serviceServer, warmUps);
    await onceEach((i) => `/avatar/${WARM_UP_BASE + i}.webp`, floorServer, warmUps);
    const coldRounds = { sharp: [] as { rate: number }[], service: [] as OnceEach[], floor: [] as OnceEach[] };
    for (const part of parts) {
      coldRounds.sharp.push(await rawSharp(coldSharp, part));
      coldRounds.service.push(await onceEach((i) => `/avatar/${COLD_BASE + i}.webp`, serviceServer, part));
      coldRounds.floor.push(await onceEach((i) => `/avatar/${COLD_BASE + i}.webp`, floorServer, part));
    }
    coldFloor.stop();
    const [cold, floorCold] = [overRounds(coldRounds.service), overRounds(coldRounds.floor)];
    const roundsNote = `median of ${ROUNDS} interleaved rounds of ${COLD_N / ROUNDS}`;
    rows.push({ scenario: `raw sharp: ${COLD_N} distinct photo-like 640 px JPEGs (~${sourceKb} KB) -> 128 webp, 4 in flight, after ${WARM_UP_N} others (${roundsNote})`, rps: median(coldRounds.sharp.map((r) => r.rate)), note: 'thumbnails/s' });
    rows.push({ scenario: `baseline: the least a cold avatar costs (bare http + GetAvatar + download + one sharp thumbnail + source and thumbnail to Redis), the same contacts, 16 in flight`, rps: floorCold.rate, p50: floorCold.p50, p99: floorCold.p99, note: `${roundsRatio(coldRounds.floor, coldRounds.sharp).toFixed(2)}x raw sharp; ${floorCold.cpuMs.toFixed(1)} CPU-ms each` });
    rows.push({ scenario: `cold misses: ${COLD_N} distinct photo-like avatars end to end, 16 in flight, after ${WARM_UP_N} others`, rps: cold.rate, p50: cold.p50, p99: cold.p99, note: `${target(roundsRatio(coldRounds.service, coldRounds.sharp), 0.5)} raw sharp, ${roundsRatio(coldRounds.service, coldRounds.floor).toFixed(2)}x that least cost (GetAvatar + download + checks + render + picture info + store, zero-latency upstream); service ${cold.cpuMs.toFixed(1)} CPU-ms each` });

    // A size and format nobody asked for yet, for each of those now cached avatars: one render each (in the
    // serving process, as `npm start` runs it), against raw sharp and ipx (Nuxt's sharp image server) rendering
    // the same sources from disk, each once, over http; round by round.
    const variantSharp: Render = (src) => sharp(src).resize(96, 96, { fit: 'cover' }).png({ compressionLevel: 6, adaptiveFiltering: false }).toBuffer();
    const sourceDir = mkdtempSync(path.join(tmpdir(), 'bench-sources-'));
    sources.forEach((bytes, i) => writeFileSync(path.join(sourceDir, `photo-${i}.jpg`), bytes));
    warmUpSources.forEach((bytes, i) => writeFileSync(path.join(sourceDir, `warm-up-${i}.jpg`), bytes));
    const ipx = await baseline('ipx', sourceDir);
    const ipxServer = { url: ipx.url, pid: ipx.pid };
    await rawSharp(variantSharp, warmUps, warmUpSources);
    await onceEach((i) => `/avatar/${WARM_UP_BASE + i}.png?size=96`, serviceServer, warmUps);
    await onceEach((i) => `/s_96x96,f_png/warm-up-${i}.jpg`, ipxServer, warmUps);
    const variantRounds = { sharp: [] as { rate: number }[], service: [] as OnceEach[], ipx: [] as OnceEach[] };
    for (const part of parts) {
      variantRounds.sharp.push(await rawSharp(variantSharp, part));
      variantRounds.service.push(await onceEach((i) => `/avatar/${COLD_BASE + i}.png?size=96`, serviceServer, part));
      variantRounds.ipx.push(await onceEach((i) => `/s_96x96,f_png/photo-${i}.jpg`, ipxServer, part));
    }
    ipx.stop();
    rmSync(sourceDir, { recursive: true });
    const [variants, ipxRun] = [overRounds(variantRounds.service), overRounds(variantRounds.ipx)];
    rows.push({ scenario: `raw sharp: the same sources -> 96 png, 4 in flight, after ${WARM_UP_N} others (${roundsNote})`, rps: median(variantRounds.sharp.map((r) => r.rate)), note: 'thumbnails/s' });
    rows.push({ scenario: `ipx 3 (its own sharp), the same sources from disk -> 96 png over http, 16 in flight, after ${WARM_UP_N} others`, rps: ipxRun.rate, p50: ipxRun.p50, p99: ipxRun.p99, note: `${roundsRatio(variantRounds.ipx, variantRounds.sharp).toFixed(2)}x raw sharp; ${ipxRun.cpuMs.toFixed(1)} CPU-ms each` });
    rows.push({
      scenario: `new variant of a known picture (its source read from the durable store, file:): ${COLD_N} avatars asked at 96 png, 16 in flight, after ${WARM_UP_N} others`,
      rps: variants.rate,
      p50: variants.p50,
      p99: variants.p99,
      note: `${target(roundsRatio(variantRounds.service, variantRounds.sharp), 0.75)} raw sharp, ${target(roundsRatio(variantRounds.service, variantRounds.ipx), 1)} ipx; service ${variants.cpuMs.toFixed(1)} CPU-ms each`,
    });

    await durableRows(env, redis);

    let seq = 0;
    const overhead = await autocannon({
      url: base,
      connections: 1,
      amount: 100,
      requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/avatar/${11200000000 + seq++}.webp` }) }],
    });
    rows.push({ scenario: 'miss latency, one at a time (queue hop + GetAvatar + download + render + store)', p50: overhead.latency.p50, p99: overhead.latency.p99, note: 'upstream answers in ~0 ms, so this is the added latency' });

    const coalesceId = '11300000000';
    green.set(`${coalesceId}@c.us`, { kind: 'avatar', url: await images.add('coalesced', { seed: 12 }) });
    const times = await Promise.all(
      Array.from({ length: 1000 }, async () => {
        const t = performance.now();
        const res = await fetch(`${base}/avatar/${coalesceId}.webp`, { headers: { connection: 'close' } });
        await res.arrayBuffer();
        return performance.now() - t;
      }),
    );
    times.sort((a, b) => a - b);
    const [calls, downloads] = [green.callsFor(`${coalesceId}@c.us`), images.downloads('coalesced')];
    rows.push({ scenario: 'coalescing: 1,000 concurrent requests for one cold avatar', p50: times[500], p99: times[989], note: `GetAvatar calls: ${calls}, downloads: ${downloads} (target 1 and 1: ${calls === 1 && downloads === 1 ? 'met' : 'MISSED'})` });
    service.child.kill('SIGTERM');

    // --- hot hits over many distinct avatars, in random order, and the memory they take ---
    const distinctBaseline = await baseline('http-distinct', bodyFile);
    stops.push(distinctBaseline.stop);
    for (const count of DISTINCT_COUNTS) {
      const distinctPrefix = `${prefix}-d${count}`;
      const keys = createKeys(distinctPrefix);
      const far = Date.now() + 86_400_000;
      for (let from = 0; from < count; from += 5000) {
        const pipeline = redis.pipeline();
        for (let i = from; i < Math.min(count, from + 5000); i++) {
          const hash = `${i.toString(16).padStart(8, '0')}${'0'.repeat(56)}`;
          const variant = { [variantField(128, 'webp')]: storedVariant(hash, distinctBody(body, DISTINCT_BASE + i)) };
          pipeline.hset(keys.meta(`${DISTINCT_BASE + i}@c.us`), { status: 'ok', url: face, hash, resolvedAt: Date.now(), freshUntil: far, urlExpiresAt: far, lifetime: 86_400, ...variant });
        }
        await pipeline.exec();
      }
      // Default settings: MEMORY_CACHE_MB 64 and keep-fresh on, as deployed.
      const service = spawnService({ ...env, KEY_PREFIX: distinctPrefix, MEMORY_CACHE_MB: '64', REFRESH_AHEAD_SECONDS: '3600' }, [], { built: true });
      services.push(service);
      const serviceBase = await service.ready();
      const paths = Array.from({ length: count }, (_, i) => `/avatar/${DISTINCT_BASE + i}.webp`);
      await warmUp(serviceBase, { paths }); // the memory cache filled as traffic would
      await warmUp(distinctBaseline.url, { paths }); // every body made once
      const { measured, bare } = await interleaved({ measured: () => load(serviceBase, { paths }), bare: () => load(distinctBaseline.url, { paths }) }, 3);
      const rss = peakRssMb(service.child.pid!);
      service.child.kill('SIGTERM');
      await service.exited;
      await deletePrefix(redis, distinctPrefix);
      rows.push({
        scenario: `hot hits over ${count.toLocaleString('en')} distinct avatars, random order (defaults: MEMORY_CACHE_MB 64, keep-fresh on; median of 3 rounds interleaved with the baseline)`,
        rps: rps(measured),
        p50: measured.latency.p50,
        p99: measured.latency.p99,
        note: [
          `${count >= 50_000 ? target(rps(measured) / rps(bare), 0.6) : count >= 3_000 ? target(rps(measured) / rps(bare), 0.8) : ratio(rps(measured), rps(bare))} the lean bare http over the same bodies (${fmt(rps(bare))} req/s, p99 ${fmt(bare.latency.p99, 1)} ms)`,
          // Background work (keep-fresh, Redis reads of evicted bodies) must not show as a p99 spike.
          `p99 ${fmt(measured.latency.p99, 1)} ms (target < 2x the lean baseline's: ${measured.latency.p99 < 2 * bare.latency.p99 ? 'met' : 'MISSED'})`,
          `API peak RSS ${rss} MB${count >= 50_000 ? ` (target < ${64 + 150} MB: ${rss < 64 + 150 ? 'met' : 'MISSED'})` : ''}; bare http ${bareHttpRss} MB`,
        ].filter(Boolean).join('; '),
      });
    }
  } finally {
    for (const stop of stops) stop();
    for (const s of services) s.child.kill('SIGTERM');
    await Promise.all(services.map((s) => s.exited));
    await Promise.all([green.close(), images.close()]);
    await deletePrefix(redis, prefix);
    await redis.quit();
    rmSync(path.join(TEST_STORAGE_DIR, prefix), { recursive: true, force: true });
  }

  // The upstream economy over simulated weeks (in this process, against the same Redis).
  // BENCH_ECONOMY=0 skips it (about 3.5 min) when measuring the HTTP scenarios alone.
  const economy = process.env.BENCH_ECONOMY === '0' ? 'skipped (BENCH_ECONOMY=0)' : economyTable(await runEconomies(REDIS_URL));

  const machine = `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, Redis ${redisVersion}`;
  const table = [
    '| scenario | req/s | p50 ms | p99 ms | compared |',
    '| --- | ---: | ---: | ---: | --- |',
    ...rows.map((r) => `| ${r.scenario} | ${fmt(r.rps)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${r.note} |`),
  ].join('\n');
  process.stdout.write(`\n${machine}\n\n${table}\n\nUpstream economy\n${economy}\n`);
  const doc = readFileSync(path.join(ROOT, 'BENCHMARKS.md'), 'utf8');
  const marker = '<!-- bench:results -->';
  const [head] = doc.split(marker);
  writeFileSync(
    path.join(ROOT, 'BENCHMARKS.md'),
    `${head}${marker}\nLast run: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine}; wrk (one thread), ${CONNECTIONS} connections, ${DURATION} s per load scenario, load generator on the same cores.\n\n${table}\n\n### Upstream economy\n\n${economy}\n`,
  );
}

void main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`${Math.round(performance.now())} bench failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
