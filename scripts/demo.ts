/**
 * `npm run demo`: avatar-cdn on http://localhost:3000 against a built-in demo upstream (a fake Green API and
 * image host on loopback, see demo-upstream.ts) with a contact for every case. Needs only Redis.
 */
import { Redis } from 'ioredis';
import { ConfigError, loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { PortInUseError, startRuntime } from '../src/runtime';
import { fakeUpstreamEnv } from '../test/helpers/stack';
import { DEMO_CHATTING, DEMO_CONTACTS, demoNotifications, startDemoUpstream } from './demo-upstream';

const DEMO_ADMIN_TOKEN = 'demo-admin-token-0123456789';
const DEMO_WEBHOOK_TOKEN = 'demo-webhook-token-0123456789';

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
      `avatar-cdn demo: Redis does not answer at ${redisUrl}; start it with: redis-server --daemonize yes --port ${new URL(redisUrl).port || 6379} --save "" --appendonly no (or set REDIS_URL)\n`,
    );
    process.exit(1);
  }

  const upstream = await startDemoUpstream();
  const { green, images } = upstream;
  // What the service needs to talk to the demo upstream: also what `start:api` and `start:worker` need.
  // (The tests' settings for the fakes, less their ephemeral ports, the demo listening where PORT says, and
  // their storage folder: the demo keeps its pictures where STORAGE_URL says, ./data by default.)
  const { HOST: _host, PORT: _port, WORKER_PORT: _workerPort, STORAGE_URL: _storage, ...upstreamEnv } = fakeUpstreamEnv(
    { green, images },
    process.env.KEY_PREFIX ?? 'avatar-cdn-demo',
    redisUrl,
  );
  const adminToken = process.env.ADMIN_TOKEN ?? DEMO_ADMIN_TOKEN;
  let config;
  try {
    config = loadConfig({
      ...process.env,
      ...upstreamEnv,
      ADMIN_TOKEN: adminToken,
      GREENAPI_WEBHOOK_TOKEN: process.env.GREENAPI_WEBHOOK_TOKEN ?? DEMO_WEBHOOK_TOKEN,
      DEMO_PAGE: 'true',
      DEMO_CONTACTS: DEMO_CONTACTS.map((c) => `${c.id}=${c.label}`).join(','),
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`avatar-cdn demo: ${err.message}\n`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  let runtime;
  try {
    runtime = await startRuntime(config, 'all', logger);
  } catch (err) {
    if (!(err instanceof PortInUseError)) throw err;
    process.stderr.write(`avatar-cdn demo: port ${err.port} is already in use; run it on another: PORT=3100 npm run demo\n`);
    await upstream.close();
    process.exit(1);
  }
  const base = runtime.url.replace('127.0.0.1', 'localhost');
  const webhookToken = config.greenApi.webhookToken!;
  // What Green API would post when someone writes to the instance: that contact's avatar is warm before a page asks.
  const notified = runtime.ready.then(() =>
    fetch(`${runtime.url}/v1/greenapi/webhook`, {
      method: 'POST',
      headers: { Authorization: webhookToken, 'Content-Type': 'application/json' },
      body: JSON.stringify(demoNotifications(green.idInstance)),
    }),
  );
  notified.catch((err: Error) => logger.warn({ err: err.message }, 'demo: could not send the demo notifications'));
  const env = Object.entries(upstreamEnv)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const row = (label: string, text: string) => `  ${label.padEnd(38)} ${text}`;
  const lines = DEMO_CONTACTS.map(({ id, label }) => row(label, `${base}/avatar/${id}.webp`));
  process.stdout.write(
    [
      '',
      `avatar-cdn demo is running on ${base} (demo upstream: fake Green API ${green.url}, image host ${images.url})`,
      `Open ${base}/ in a browser for the demo page, or one of these:`,
      ...lines,
      row('other sizes, formats, JSON', `${base}/avatar/11001234567.avif?size=256   ${base}/avatar/11001234567.json`),
      row('initials for a contact without one', `${base}/avatar/11002345678.png?d=initials&name=Jane%20Doe`),
      row('readiness, metrics, API description', `${base}/readyz   ${base}/metrics   ${base}/openapi.json`),
      row('a new picture (and a change event)', `curl -X POST -H 'Authorization: Bearer ${adminToken}' ${base}/v1/avatars/11005550124/refresh`),
      row('queue dashboard', `curl -H 'Authorization: Bearer ${adminToken}' ${base}/admin/queues/api/queues`),
      row('warm a contact list', `ADMIN_TOKEN=${adminToken} npm run -s warm -- --file contacts.txt --url ${base}`),
      row("warm the instance's address book", `ADMIN_TOKEN=${adminToken} npm run -s warm -- --contacts --url ${base}`),
      row('warmed by a Green API notification', `${base}/avatar/${DEMO_CHATTING}.webp   (a message from Carol, sent at start)`),
      row('send a notification yourself', `curl -X POST -H 'Authorization: ${webhookToken}' -H 'Content-Type: application/json' -d '{"typeWebhook":"incomingMessageReceived","senderData":{"chatId":"11001234567@c.us","sender":"11001234567@c.us"}}' ${base}/v1/greenapi/webhook`),
      '',
      'The two roles apart against this demo upstream, while it runs (other terminals):',
      `  ${env} PORT=3100 npm run start:api`,
      `  ${env} WORKER_PORT=3101 npm run start:worker`,
      'Ctrl+C to stop.',
      '',
    ].join('\n'),
  );

  const stop = () => {
    void runtime
      .close()
      .then(() => upstream.close())
      .then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
