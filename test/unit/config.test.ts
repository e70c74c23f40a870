import { ConfigError, loadConfig } from '../../src/config';

const required = { GREEN_API_ID_INSTANCE: '1101000001', GREEN_API_TOKEN_INSTANCE: 'secret' };

describe('loadConfig', () => {
  it('has documented defaults', () => {
    const config = loadConfig(required);
    expect(config).toMatchObject({
      port: 3000,
      missWaitMs: 3000,
      defaultSize: 128,
      redis: { cache: { url: 'redis://127.0.0.1:6379' }, queue: { url: 'redis://127.0.0.1:6379' }, keyPrefix: 'avatar-cdn', queuePrefix: 'avatar-cdn' },
      source: { allowedHosts: ['pps.whatsapp.net'], allowHttp: false, maxBytes: 5 * 1024 * 1024 },
      ttl: { avatarSeconds: 86400, negativeSeconds: 3600 },
      greenApi: { instances: [{ idInstance: '1101000001', apiToken: 'secret', url: 'https://api.green-api.com' }], ratePerSec: 10 },
    });
  });

  it.each([
    [{}, 'GREEN_API_ID_INSTANCE is required'],
    [{ GREEN_API_ID_INSTANCE: '1101000001' }, 'GREEN_API_TOKEN_INSTANCE is required'],
    [{ ...required, PORT: 'eighty' }, /^PORT is invalid/],
    [{ ...required, DEFAULT_SIZE: '100' }, /^DEFAULT_SIZE is invalid/],
    [{ ...required, REDIS_URL: 'http://x' }, /^REDIS_URL is invalid: must be a redis:\/\/, rediss:\/\/ or redis\+cluster/],
    [{ ...required, REDIS_URL: 'localhost:6379' }, 'REDIS_URL is invalid: must be a redis://, rediss:// or redis+cluster://host:port,host:port URL, e.g. redis://127.0.0.1:6379'],
    [{ ...required, QUEUE_REDIS_URL: 'localhost:6379' }, 'QUEUE_REDIS_URL is invalid: must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379'],
    [{ ...required, GREEN_API_URL: 'api.green-api.com' }, 'GREEN_API_URL is invalid: must be an http:// or https:// URL'],
    [{ ...required, DEFAULT_FORMAT: 'gif' }, 'DEFAULT_FORMAT is invalid: webp, avif, png, jpg or jpeg'],
    [{ ...required, AVATAR_SOURCE_ALLOW_HTTP: 'yes please' }, /^AVATAR_SOURCE_ALLOW_HTTP is invalid/],
    [{ ...required, GREEN_API_ID_INSTANCE: 'abc' }, /^GREEN_API_ID_INSTANCE is invalid/],
  ])('%j fails with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('takes DEFAULT_FORMAT=jpg as URLs do', () => {
    expect(loadConfig({ ...required, DEFAULT_FORMAT: 'jpg' }).defaultFormat).toBe('jpeg');
  });

  it('never puts the token in an error message', () => {
    expect(() => loadConfig({ ...required, GREEN_API_URL: 'ftp://secret' })).toThrow(/^GREEN_API_URL is invalid/);
  });

  it('reads a pool of instances from GREEN_API_INSTANCES', () => {
    const config = loadConfig({ GREEN_API_INSTANCES: '1101000001:tok1, 1101000002:tok2@https://7103.api.greenapi.com/' });
    expect(config.greenApi.instances).toEqual([
      { idInstance: '1101000001', apiToken: 'tok1', url: 'https://api.green-api.com' },
      { idInstance: '1101000002', apiToken: 'tok2', url: 'https://7103.api.greenapi.com' },
    ]);
    expect(() => loadConfig({ GREEN_API_INSTANCES: '1101000001' })).toThrow(/^GREEN_API_INSTANCES is invalid/);
  });

  it('splits the queue from the cache when asked', () => {
    expect(loadConfig({ ...required, QUEUE_REDIS_URL: 'redis://q:6379/1' }).redis.queue).toEqual({ url: 'redis://q:6379/1' });
  });

  it('switches to a Redis Cluster, with a hash-tagged queue prefix', () => {
    const expected = { clusterNodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }] };
    for (const env of [{ REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7001' }, { REDIS_URL: 'redis+cluster://10.0.0.1:7000,10.0.0.2:7001' }]) {
      const { redis } = loadConfig({ ...required, ...env });
      expect(redis).toMatchObject({ cache: expected, queue: expected, keyPrefix: 'avatar-cdn', queuePrefix: '{avatar-cdn}' });
    }
  });
});
