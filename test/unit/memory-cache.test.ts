import { createResponseMemory } from '../../src/avatar/memory-cache';

const response = (body: string) => ({ statusCode: 200, headers: { etag: `"${body}"` }, body: Buffer.from(body), etag: `"${body}"` });

describe('response memory', () => {
  const now = 1_000_000;
  const clock = () => now;
  const memory = () => {
    const m = createResponseMemory({ maxBytes: 1024 * 1024, ttlMs: 60_000 }, clock);
    m.setLive(true);
    return m;
  };

  it('keeps a fresh record\'s response until that contact changes, dropping every copy of it and no other', () => {
    const m = memory();
    m.remember('/avatar/1.webp', 'a@c.us', response('a1'), { resolvedAt: now - 10, freshUntil: now + 30_000 });
    m.remember('/avatar/1.png', 'a@c.us', response('a2'), { resolvedAt: now - 10, freshUntil: now + 30_000 });
    m.remember('/avatar/2.webp', 'b@c.us', response('b'), { resolvedAt: now - 10, freshUntil: now + 30_000 });
    expect(m.get('/avatar/1.webp')?.etag).toBe('"a1"');
    expect(m.get('/avatar/1.webp')?.headers['x-cache']).toBe('HIT');
    m.forget('a@c.us', now);
    expect(m.get('/avatar/1.webp')).toBeUndefined();
    expect(m.get('/avatar/1.png')).toBeUndefined();
    expect(m.get('/avatar/2.webp')?.etag).toBe('"b"');
  });

  it('does not keep a response read before a change it has heard of (a read that raced the change), but keeps the new one', () => {
    const m = memory();
    m.forget('a@c.us', now);
    m.remember('/avatar/1.webp', 'a@c.us', response('old'), { resolvedAt: now - 5_000, freshUntil: now + 30_000 });
    expect(m.get('/avatar/1.webp')).toBeUndefined();
    m.remember('/avatar/1.webp', 'a@c.us', response('new'), { resolvedAt: now, freshUntil: now + 30_000 });
    expect(m.get('/avatar/1.webp')?.etag).toBe('"new"');
  });

  it('serves and keeps nothing while the news of changes cannot arrive, and starts empty when it can again', () => {
    const m = memory();
    m.remember('/avatar/1.webp', 'a@c.us', response('a'), { resolvedAt: now, freshUntil: now + 30_000 });
    m.setLive(false);
    expect(m.get('/avatar/1.webp')).toBeUndefined();
    m.remember('/avatar/1.webp', 'a@c.us', response('a'), { resolvedAt: now, freshUntil: now + 30_000 });
    m.setLive(true);
    expect(m.get('/avatar/1.webp')).toBeUndefined();
  });

  it('keeps a copy no longer than its record is fresh', () => {
    const m = memory();
    m.remember('/avatar/1.webp', 'a@c.us', response('a'), { resolvedAt: now, freshUntil: now - 1 });
    expect(m.get('/avatar/1.webp')).toBeUndefined();
  });
});
