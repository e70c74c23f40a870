import { interpretAnswer, type GetAvatarBody } from '../../src/greenapi/answer';
import { GreenApiError } from '../../src/greenapi/errors';
import { linkExpiresAt } from '../../src/greenapi/link-expiry';
import { scrub } from '../../src/greenapi/scrub';

const URL_A = 'https://pps.whatsapp.net/a.jpg';

describe('interpretAnswer: every generation of the GetAvatar answer', () => {
  it.each([
    // {existsWhatsapp, urlAvatar}
    [{ existsWhatsapp: true, urlAvatar: URL_A }, { kind: 'avatar', url: URL_A }],
    [{ existsWhatsapp: true, urlAvatar: '' }, { kind: 'no-avatar' }],
    [{ existsWhatsapp: false, urlAvatar: '' }, { kind: 'not-on-whatsapp' }],
    // {urlAvatar} alone
    [{ urlAvatar: URL_A }, { kind: 'avatar', url: URL_A }],
    [{ urlAvatar: '' }, { kind: 'no-avatar' }],
    // {urlAvatar, available}
    [{ available: true, urlAvatar: URL_A }, { kind: 'avatar', url: URL_A }],
    [{ available: true, urlAvatar: '' }, { kind: 'no-avatar' }],
    [{ available: true }, { kind: 'no-avatar' }],
    [{ available: false, urlAvatar: '' }, { kind: 'hidden' }],
    [{ available: false }, { kind: 'hidden' }],
    // a picture wins over any flag; unknown fields are ignored
    [{ available: false, urlAvatar: URL_A }, { kind: 'avatar', url: URL_A }],
    [{ urlAvatar: URL_A, somethingNew: { nested: true } }, { kind: 'avatar', url: URL_A }],
    [{ urlAvatar: '', lastSeen: 12 }, { kind: 'no-avatar' }],
    [{ existsWhatsapp: false, reason: 'bad request data' }, { kind: 'invalid-chat-id' }],
  ])('%j -> %j', (body, answer) => expect(interpretAnswer(body)).toEqual(answer));

  it.each([[{ reason: 'get avatar timeout limit exceeded' }], [{ reason: 'rate-overlimit' }], [{}], [{ urlAvatar: null }], [{ urlAvatar: 42 }], [{ urlAvatar: 'https://pps.whatsapp.net/v/a.jpg\nhash=1' }], [{ other: 1 }]])(
    '%j is a transient error, not an answer',
    (body) => {
      let thrown: unknown;
      try {
        interpretAnswer(body as GetAvatarBody);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(GreenApiError);
      expect((thrown as GreenApiError).kind).toBe('transient');
    },
  );

  it('keeps no token in a reason it reports', () => {
    const token = 'tok0123456789abcdefXYZ';
    let message = '';
    try {
      interpretAnswer({ reason: `failed for /waInstance1101/getAvatar/${token} and ${token.slice(3, 17)}` }, [token]);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^GetAvatar answered reason/);
    expect(message).not.toContain(token.slice(0, 10));
    expect(message).not.toContain(token.slice(3, 13));
  });
});

describe('scrub', () => {
  it('removes request paths, the token and words sharing ten characters with it; keeps the rest short', () => {
    const token = 'd41d8cd98f00b204e9800998ecf8427e';
    const out = scrub(`{"path":"/waInstance11/getAvatar/${token}","message":"bad ${token} x${token.slice(5, 20)}y"}`, [token]);
    expect(out).not.toContain(token.slice(5, 15));
    expect(out).toContain('<path>');
    expect(scrub('a'.repeat(500), [token]).length).toBeLessThanOrEqual(83);
  });
});

describe('linkExpiresAt', () => {
  it('reads oe= as hex Unix seconds', () => {
    expect(linkExpiresAt('https://pps.whatsapp.net/v/t61/x.jpg?ccb=11-4&oe=65F0A1B2&_nc_cat=1')).toBe(0x65f0a1b2 * 1000);
  });
  it.each(['https://pps.whatsapp.net/x.jpg', 'https://pps.whatsapp.net/x.jpg?oe=zz', 'nonsense'])('has no expiry for %s', (url) =>
    expect(linkExpiresAt(url)).toBeUndefined(),
  );
});
