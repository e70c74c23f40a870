/**
 * `npm run demo`: avatar-cdn on http://localhost:3000 against a built-in demo upstream (the fake Green API
 * and image host from test/fakes, on loopback), with a few demo contacts. Needs only Redis.
 */
import { Redis } from 'ioredis';
import { ConfigError, loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { startRuntime } from '../src/runtime';
import { FakeGreenApi } from '../test/fakes/green-api';
import { FakeImageHost } from '../test/fakes/image-host';

const DEMO_ADMIN_TOKEN = 'demo-admin-token-0123456789';

export const DEMO_CONTACTS = [
  { id: '11001234567', label: 'has an avatar' },
  { id: '11002345678', label: 'on WhatsApp, no avatar' },
  { id: '11003456789', label: 'not on WhatsApp' },
  { id: '6591234567', label: 'picture hidden (private)' },
  { id: '120363043968066561@g.us', label: 'a group with an avatar' },
] as const;

async function redisAnswers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 2000 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

async function main(): Promise<void> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (!(await redisAnswers(redisUrl))) {
    process.stderr.write(
      `avatar-cdn demo: Redis does not answer at ${redisUrl}; start it with: redis-server --daemonize yes --port 6379 --save "" --appendonly no\n`,
    );
    process.exit(1);
  }

  const green = new FakeGreenApi({ idInstance: '1101000001', apiToken: 'demo-token' });
  const images = new FakeImageHost();
  await Promise.all([green.start(), images.start()]);
  // Each contact answers in one of the three generations of the GetAvatar docs, as the real service may.
  green.set('11001234567@c.us', { kind: 'avatar', url: await images.add('alice', { seed: 3 }), generation: 'available' }, 300);
  green.set('11002345678@c.us', { kind: 'no-avatar', generation: 'url-only' }, 300);
  green.set('11003456789@c.us', { kind: 'not-on-whatsapp', generation: 'exists' }, 300);
  green.set('6591234567@c.us', { kind: 'hidden', generation: 'available' }, 300);
  green.set('120363043968066561@g.us', { kind: 'avatar', url: await images.add('team', { seed: 5 }), generation: 'url-only' }, 300);

  let config;
  try {
    config = loadConfig({
      ...process.env,
      REDIS_URL: redisUrl,
      KEY_PREFIX: process.env.KEY_PREFIX ?? 'avatar-cdn-demo',
      GREEN_API_URL: green.url,
      GREEN_API_ID_INSTANCE: green.idInstance,
      GREEN_API_TOKEN_INSTANCE: green.apiToken,
      AVATAR_SOURCE_HOSTS: new URL(images.url).host,
      AVATAR_SOURCE_ALLOW_PRIVATE: 'true',
      AVATAR_SOURCE_ALLOW_HTTP: 'true',
      ADMIN_TOKEN: process.env.ADMIN_TOKEN ?? DEMO_ADMIN_TOKEN,
      DEMO_PAGE: 'true',
      DEMO_CONTACTS: DEMO_CONTACTS.map((c) => c.id).join(','),
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`avatar-cdn demo: ${err.message}\n`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  const runtime = await startRuntime(config, 'all', logger);
  const base = runtime.url!.replace('127.0.0.1', 'localhost');
  const lines = DEMO_CONTACTS.map(({ id, label }) => `  ${label.padEnd(24)} ${base}/avatar/${id}.webp`);
  process.stdout.write(
    [
      '',
      `avatar-cdn demo is running on ${base} (demo upstream: fake Green API ${green.url}, image host ${images.url})`,
      `Open ${base}/ in a browser for the demo page, or one of these:`,
      ...lines,
      `  other sizes and formats    ${base}/avatar/11001234567.avif?size=256   ${base}/avatar/11001234567.png?size=48`,
      `  readiness, metrics         ${base}/readyz   ${base}/metrics`,
      `  queue dashboard            curl -H 'Authorization: Bearer ${config.security.adminToken}' ${base}/admin/queues/api/queues`,
      `  warm a contact list        ADMIN_TOKEN=${config.security.adminToken} npm run warm -- --file contacts.txt --url ${base}`,
      'Ctrl+C to stop.',
      '',
    ].join('\n'),
  );

  const stop = () => {
    void runtime
      .close()
      .then(() => Promise.all([green.close(), images.close()]))
      .then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
