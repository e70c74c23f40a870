/**
 * The upstream economy over simulated weeks: the real resolve pipeline (real Redis, real sharp) with an
 * injected clock, an in-process Green API that counts calls and an in-process image host that counts
 * downloads. Runs the fixed-lifetime policy and the growing one on the same contacts and requests.
 * `npm run bench` includes it; `npm run bench:economy` runs it alone.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { freshnessPolicy, type FreshnessPolicy } from '../../src/avatar/freshness';
import { createAvatarStore } from '../../src/avatar/store';
import type { AvatarReply, GreenApiClient } from '../../src/greenapi/client';
import type { Downloader } from '../../src/images/download';
import { createLogger } from '../../src/logger';
import { loadConfig } from '../../src/config';
import { createMetrics } from '../../src/metrics';
import { deletePrefix } from '../../test/helpers/stack';
import { createAvatarPipeline } from '../../workers/avatar-pipeline';
import { createRecordChanges } from '../../src/records/record-changes';
import { createSharpSlots } from '../../src/images/sharp-slots';

export interface EconomySettings {
  contacts: number;
  days: number;
  requestsPerDay: number;
  /** Share of contacts without a picture. */
  noPictureShare: number;
  /** Share of contacts that change their picture each week. */
  weeklyChangeShare: number;
  /** Requests pick contacts with probability proportional to 1 / rank^zipf. */
  zipf: number;
}

export const ECONOMY_DEFAULTS: EconomySettings = { contacts: 10_000, days: 30, requestsPerDay: 50_000, noPictureShare: 0.3, weeklyChangeShare: 0.03, zipf: 1 };

export interface EconomyResult {
  policy: string;
  calls: number;
  callsPerContactPerDay: number;
  /** Answers with a picture: what a pipeline that downloads every time would have downloaded. */
  pictureAnswers: number;
  downloads: number;
  /** Hours a changed picture could still be served as fresh: mean and worst over every change. */
  meanStaleHours: number;
  worstStaleHours: number;
  changes: number;
}

const DAY = 86_400_000;
/** Requests are taken ten simulated minutes at a time; resolves in one window run together at its start. */
const WINDOW_MS = 600_000;
const IN_FLIGHT = 64;

/** A deterministic PRNG (mulberry32), so both policies see the same world. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface World {
  hasPicture: boolean[];
  /** Per contact, the times at which its picture changes, ascending. */
  changes: number[][];
  /** Request times and contacts, in time order. */
  requests: { at: number; contact: number }[];
}

function makeWorld(s: EconomySettings, start: number): World {
  const rand = random(42);
  const hasPicture = Array.from({ length: s.contacts }, () => rand() >= s.noPictureShare);
  const changes: number[][] = hasPicture.map(() => []);
  const changesTotal = Math.round(s.contacts * s.weeklyChangeShare * (s.days / 7));
  const withPicture = hasPicture.flatMap((has, i) => (has ? [i] : []));
  for (let i = 0; i < changesTotal; i++) changes[withPicture[Math.floor(rand() * withPicture.length)]!]!.push(start + rand() * s.days * DAY);
  for (const list of changes) list.sort((a, b) => a - b);
  // Zipf: rank r is asked with weight 1/r^s; ranks are shuffled over contacts.
  const cdf: number[] = [];
  let sum = 0;
  for (let r = 1; r <= s.contacts; r++) cdf.push((sum += 1 / r ** s.zipf));
  const order = Array.from({ length: s.contacts }, (_, i) => i).sort(() => rand() - 0.5);
  const pick = () => {
    const x = rand() * sum;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return order[lo]!;
  };
  const total = s.requestsPerDay * s.days;
  const requests = Array.from({ length: total }, () => ({ at: start + rand() * s.days * DAY, contact: pick() }));
  requests.sort((a, b) => a.at - b.at);
  return { hasPicture, changes, requests };
}

/** The picture version of a contact at a time: how many of its changes have happened. */
function versionAt(world: World, contact: number, at: number): number {
  let v = 0;
  for (const t of world.changes[contact]!) if (t <= at) v++;
  return v;
}

const chatIdOf = (contact: number) => `${10_000_000_000 + contact}@c.us`;
const contactOf = (chatId: string) => Number(chatId.split('@')[0]) - 10_000_000_000;

/** A tiny PNG unique to (contact, version): 4x4 pixels whose bytes spell both numbers. */
function pictureBytes(contact: number, version: number): Promise<Buffer> {
  const raw = Buffer.alloc(48, 128);
  raw.writeUInt32BE(contact, 0);
  raw.writeUInt32BE(version, 4);
  return sharp(raw, { raw: { width: 4, height: 4, channels: 3 } }).png().toBuffer();
}

async function simulate(redis: Redis, world: World, s: EconomySettings, start: number, label: string, freshness: FreshnessPolicy): Promise<EconomyResult> {
  let now = start;
  let calls = 0;
  let pictureAnswers = 0;
  let downloads = 0;
  const greenApi: GreenApiClient = {
    async getAvatar(chatId): Promise<AvatarReply> {
      calls++;
      const contact = contactOf(chatId);
      if (!world.hasPicture[contact]) return { kind: 'no-avatar' };
      pictureAnswers++;
      // Every answer is a newly signed link (new query, valid three days) to the picture's current path.
      const oe = Math.floor((now + 3 * DAY) / 1000).toString(16);
      return { kind: 'avatar', url: `https://pps.whatsapp.net/v/t61/${contact}_${versionAt(world, contact, now)}_n.jpg?oe=${oe}&oh=${calls}` };
    },
  };
  const downloader: Downloader = {
    async download(url) {
      downloads++;
      const [, contact, version] = /\/(\d+)_(\d+)_n\.jpg/.exec(url)!;
      return pictureBytes(Number(contact), Number(version));
    },
  };
  const prefix = `economy-${randomBytes(3).toString('hex')}`;
  const store = createAvatarStore(redis, prefix, { imageSeconds: 30 * 86_400 });
  const pipeline = createAvatarPipeline({
    store,
    changes: createRecordChanges(redis, prefix),
    slots: createSharpSlots(2),
    metrics: createMetrics(),
    greenApi,
    downloader,
    logger: createLogger('silent'),
    clock: () => now,
    options: { freshness, imageTtlSeconds: 30 * 86_400, maxPixels: 1024 * 1024, defaultSize: 128, defaultFormat: 'webp' },
  });

  const freshUntil = new Float64Array(s.contacts);
  const staleness: number[] = [];
  const pendingChanges = world.changes.flatMap((times, contact) => times.map((at) => ({ at, contact }))).sort((a, b) => a.at - b.at);
  let nextChange = 0;
  let nextRequest = 0;
  try {
    for (let windowEnd = start + WINDOW_MS; nextRequest < world.requests.length; windowEnd += WINDOW_MS) {
      // A change is visible once the answer cached when it happened stops being fresh.
      for (; nextChange < pendingChanges.length && pendingChanges[nextChange]!.at < windowEnd; nextChange++) {
        const { at, contact } = pendingChanges[nextChange]!;
        staleness.push(Math.max(0, freshUntil[contact]! - at));
      }
      now = windowEnd - WINDOW_MS;
      const due = new Set<number>();
      for (; nextRequest < world.requests.length && world.requests[nextRequest]!.at < windowEnd; nextRequest++) {
        const { contact } = world.requests[nextRequest]!;
        if (freshUntil[contact]! <= now) due.add(contact);
      }
      const contacts = [...due];
      for (let i = 0; i < contacts.length; i += IN_FLIGHT) {
        await Promise.all(
          contacts.slice(i, i + IN_FLIGHT).map(async (contact) => {
            freshUntil[contact] = (await pipeline.resolve(chatIdOf(contact))).record.freshUntil;
          }),
        );
      }
    }
  } finally {
    await deletePrefix(redis, prefix);
  }
  const hours = (ms: number) => ms / 3_600_000;
  return {
    policy: label,
    calls,
    callsPerContactPerDay: calls / s.contacts / s.days,
    pictureAnswers,
    downloads,
    meanStaleHours: hours(staleness.reduce((a, b) => a + b, 0) / Math.max(1, staleness.length)),
    worstStaleHours: hours(Math.max(0, ...staleness)),
    changes: staleness.length,
  };
}

/** Request volumes simulated: the economy depends on how often each contact is asked for. */
export const ECONOMY_VOLUMES = [50_000, 200_000];

export interface EconomyRun {
  settings: EconomySettings;
  fixed: EconomyResult;
  growing: EconomyResult;
}

/** Runs both policies with today's defaults on the same world; `fixed` is the policy before lifetimes grew. */
export async function runEconomy(redisUrl: string, settings: EconomySettings): Promise<EconomyRun> {
  const redis = new Redis(redisUrl);
  try {
    const start = Date.UTC(2026, 0, 1);
    const world = makeWorld(settings, start);
    // The service's own defaults (config.ts), so the figures follow them.
    const { ttl } = loadConfig({ GREEN_API_ID_INSTANCE: '1', GREEN_API_TOKEN_INSTANCE: 'economy' });
    const days = (seconds: number) => `${+(seconds / 86_400).toFixed(2)} d`;
    const [fixed, growing] = await Promise.all([
      simulate(redis, world, settings, start, 'fixed (1 d / 1 h)', freshnessPolicy({ ...ttl, avatarSeconds: 86_400, negativeSeconds: 3600, avatarMaxSeconds: 86_400, negativeMaxSeconds: 3600 })),
      simulate(redis, world, settings, start, `growing (defaults: up to ${days(ttl.avatarMaxSeconds)} / ${days(ttl.negativeMaxSeconds)})`, freshnessPolicy(ttl)),
    ]);
    return { settings, fixed, growing };
  } finally {
    await redis.quit();
  }
}

export function economyTable(runs: EconomyRun[]): string {
  const s = runs[0]!.settings;
  const lines = [
    `${s.contacts} contacts over ${s.days} simulated days, requests Zipf-distributed (s=${s.zipf}), ${s.noPictureShare * 100}% without a picture, ${s.weeklyChangeShare * 100}% changing their picture each week. Targets: >= 3x fewer calls than fixed lifetimes, worst staleness <= 96 h (AVATAR_MAX_TTL_SECONDS).`,
    '',
    '| requests/day | policy | GetAvatar calls | per contact per day | picture answers | downloads | mean stale h | worst stale h | verdict |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const { settings, fixed, growing } of runs) {
    const fewer = fixed.calls / growing.calls;
    const verdict = `${fewer.toFixed(1)}x fewer calls, ${fewer >= 3 && growing.worstStaleHours <= 96 ? 'met' : 'MISSED'}`;
    for (const r of [fixed, growing]) {
      lines.push(
        `| ${settings.requestsPerDay} | ${r.policy} | ${r.calls} | ${r.callsPerContactPerDay.toFixed(3)} | ${r.pictureAnswers} | ${r.downloads} | ${r.meanStaleHours.toFixed(1)} | ${r.worstStaleHours.toFixed(1)} | ${r === growing ? verdict : 'baseline'} |`,
      );
    }
  }
  lines.push('', 'Picture answers: what the pipeline before this change downloaded (every answer with a picture); downloads: what it downloads now (a new picture path only), in both policies.');
  return lines.join('\n');
}

/** Every volume of ECONOMY_VOLUMES with the default world. */
export async function runEconomies(redisUrl: string): Promise<EconomyRun[]> {
  const runs: EconomyRun[] = [];
  for (const requestsPerDay of ECONOMY_VOLUMES) runs.push(await runEconomy(redisUrl, { ...ECONOMY_DEFAULTS, requestsPerDay }));
  return runs;
}

if (require.main === module) {
  void runEconomies(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').then(
    (runs) => {
      process.stdout.write(`${economyTable(runs)}\n`);
      process.exit(0);
    },
    (err: Error) => {
      process.stderr.write(`economy bench failed: ${err.stack ?? err.message}\n`);
      process.exit(1);
    },
  );
}
