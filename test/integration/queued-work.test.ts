import { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { createKeys } from '../../src/avatar/keys';
import { createQueueEvents, createQueues, type AvatarQueueEvents, type AvatarQueues } from '../../src/queue/queues';
import { createQueuedWork, type QueuedWork } from '../../src/work/queued';
import { makeJpeg } from '../fakes/image-host';
import { REDIS_URL, startStack, type Stack } from '../helpers/stack';

/**
 * The queue adapter of Ensure against a real worker process's runtime (role worker, real BullMQ): what a
 * resolve job hands to the request waiting for it, so the request need not read the record back.
 */
let worker: Stack;
let queues: AvatarQueues;
let events: AvatarQueueEvents;
let work: QueuedWork;
const connections: Redis[] = [];

beforeAll(async () => {
  worker = await startStack({ role: 'worker' });
  const connection = () => {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    connections.push(redis);
    return redis;
  };
  const { queuePrefix } = worker.config.redis;
  queues = createQueues(connection(), queuePrefix, worker.config.jobs);
  events = createQueueEvents(connection(), queuePrefix);
  await events.ready;
  work = createQueuedWork(queues, events, { maxWaitMs: 5000, maxBacklog: { resolve: 0, render: 0 } });
}, 30_000);

afterAll(async () => {
  await Promise.all([queues.close(), events.close()]);
  await worker.close();
  for (const redis of connections) redis.disconnect();
});

describe('a resolve job hands its record to the request that waits for it', () => {
  it('a contact with a picture: the record the worker wrote (status, picture hash, times), never its link', async () => {
    const bytes = await makeJpeg(77);
    const url = await worker.images.add('queued-face', { bytes });
    worker.green.set('11000098001@c.us', { kind: 'avatar', url });
    const before = Date.now();
    const outcome = await work.resolve('interactive', '11000098001@c.us');
    if (typeof outcome !== 'object') throw new Error(`no record handed over: ${outcome}`);
    const picture = createHash('sha256').update(bytes).digest('hex');
    expect(outcome.record).toEqual({ status: 'ok', hash: picture, resolvedAt: expect.any(Number), freshUntil: expect.any(Number), changedAt: expect.any(Number) });
    expect(outcome.record.resolvedAt).toBeGreaterThanOrEqual(before);
    expect(outcome.record.freshUntil).toBeGreaterThan(outcome.record.resolvedAt);
    // The stored record says the same: the handed record is the one written.
    const stored = await worker.redis.hmget(createKeys(worker.config.redis.keyPrefix).meta('11000098001@c.us'), 'status', 'hash', 'resolvedAt');
    expect(stored).toEqual(['ok', picture, String(outcome.record.resolvedAt)]);
    // Nor does the job's return value, kept in the queue's event stream.
    const stream = await worker.redis.xrange(`${worker.config.redis.queuePrefix}:resolve:events`, '-', '+');
    expect(JSON.stringify(stream)).toContain(picture);
    expect(JSON.stringify(stream)).not.toContain(url.split('?')[0]);
    expect(worker.green.callsFor('11000098001@c.us')).toBe(1);
  });

  it('a contact not on WhatsApp: its status, with no picture', async () => {
    worker.green.set('11000098002@c.us', { kind: 'not-on-whatsapp' });
    const outcome = await work.resolve('interactive', '11000098002@c.us');
    expect(typeof outcome === 'object' && outcome.record).toMatchObject({ status: 'not-on-whatsapp', hash: '' });
  });

  it('a job that fails hands nothing: failed', async () => {
    worker.green.set('11000098003@c.us', { kind: 'http', status: 500, body: {} });
    expect(await work.resolve('interactive', '11000098003@c.us', { failed: 'first attempt failed', final: true })).toBe('failed');
    expect(worker.green.callsFor('11000098003@c.us')).toBe(0);
  });
});
