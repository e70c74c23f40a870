import { startStack, eventually, type Stack } from '../helpers/stack';
import { get } from '../helpers/http';
import type { GetAvatarBehaviour } from '../fakes/green-api';

let stack: Stack;

beforeAll(async () => {
  // No cool-downs, so every error below reaches the fake instead of the breaker.
  stack = await startStack({ env: { MISS_WAIT_MS: '300', GREEN_API_TIMEOUT_MS: '200', AUTH_COOLDOWN_SECONDS: '0', QUOTA_COOLDOWN_SECONDS: '0' } });
});
afterAll(() => stack.close());

const failures: [string, GetAvatarBehaviour, number][] = [
  ['11000001201@c.us', { kind: 'http', status: 401, body: { message: 'Unauthorized' } }, 0],
  ['11000001202@c.us', { kind: 'http', status: 403, body: { message: 'Forbidden' } }, 0],
  ['11000001203@c.us', { kind: 'http', status: 400, body: { message: 'instance account not authorized' } }, 0],
  ['11000001204@c.us', { kind: 'http', status: 466, body: { invokeStatus: { status: 'QUOTE_ALLOWED_EXCEEDED' } } }, 0],
  ['11000001205@c.us', { kind: 'http', status: 500, body: { message: 'oops' } }, 0],
  ['11000001206@c.us', { kind: 'http', status: 429, body: {}, headers: { 'Retry-After': '0' } }, 0],
  ['11000001207@c.us', { kind: 'reason', reason: 'get avatar timeout limit exceeded' }, 0],
  ['11000001208@c.us', { kind: 'not-on-whatsapp' }, 1000],
  ['11000001209@c.us', { kind: 'http', status: 418 }, 0],
];

describe('the Green API token', () => {
  it('never appears in a log line, a job or a response, through every upstream error', async () => {
    for (const [chatId, behaviour, delayMs] of failures) {
      stack.green.set(chatId, behaviour, delayMs);
      const res = await get(stack.url, `/avatar/${chatId.split('@')[0]}.webp`);
      expect(JSON.stringify(res.headers)).not.toContain(stack.green.apiToken);
      expect((res.body as Buffer).toString('latin1')).not.toContain(stack.green.apiToken);
    }
    // Every failure was met and logged before we look: a call reaches the fake before its outcome (the slow
    // one's timeout) is logged, and the queue may hold a job back after a 429.
    await eventually(() => failures.every(([chatId]) => stack.logs.some((l) => l.msg === 'GetAvatar' && l.chatId === chatId)));
    await eventually(() => stack.logs.filter((l) => /job (attempt )?failed/.test(String(l.msg))).length >= failures.length - 1);
    const logText = JSON.stringify(stack.logs);
    expect(logText).toContain('HTTP 401');
    expect(logText).toContain('GetAvatar took longer than 200 ms');
    expect(logText).not.toContain(stack.green.apiToken);

    const jobKeys = await stack.redis.keys(`${stack.config.redis.keyPrefix}:resolve:*`);
    for (const key of jobKeys) {
      if ((await stack.redis.type(key)) !== 'hash') continue;
      expect(JSON.stringify(await stack.redis.hgetall(key))).not.toContain(stack.green.apiToken);
    }
  });
});
