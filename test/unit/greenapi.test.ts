import { interpretAnswer } from '../../src/greenapi/client';
import { GreenApiError } from '../../src/greenapi/errors';
import { linkExpiresAt } from '../../src/greenapi/link-expiry';

describe('interpretAnswer', () => {
  it.each([
    [{ existsWhatsapp: true, urlAvatar: 'https://pps.whatsapp.net/a.jpg' }, { kind: 'avatar', url: 'https://pps.whatsapp.net/a.jpg' }],
    [{ available: true, urlAvatar: 'https://pps.whatsapp.net/a.jpg' }, { kind: 'avatar', url: 'https://pps.whatsapp.net/a.jpg' }],
    [{ existsWhatsapp: true, urlAvatar: '' }, { kind: 'no-avatar' }],
    [{ available: true }, { kind: 'no-avatar' }],
    [{ existsWhatsapp: false, urlAvatar: '' }, { kind: 'not-on-whatsapp' }],
    [{ available: false }, { kind: 'not-on-whatsapp' }],
    [{ existsWhatsapp: false, reason: 'bad request data' }, { kind: 'invalid-chat-id' }],
  ])('%j -> %j', (body, answer) => expect(interpretAnswer(body)).toEqual(answer));

  it.each([[{ reason: 'get avatar timeout limit exceeded' }], [{ reason: 'rate-overlimit' }], [{}], [{ urlAvatar: '' }]])(
    '%j is a transient error, not an answer',
    (body) => {
      expect(() => interpretAnswer(body)).toThrow(GreenApiError);
      try {
        interpretAnswer(body);
      } catch (err) {
        expect((err as GreenApiError).kind).toBe('transient');
      }
    },
  );
});

describe('linkExpiresAt', () => {
  it('reads oe= as hex Unix seconds', () => {
    expect(linkExpiresAt('https://pps.whatsapp.net/v/t61/x.jpg?ccb=11-4&oe=65F0A1B2&_nc_cat=1')).toBe(0x65f0a1b2 * 1000);
  });
  it.each(['https://pps.whatsapp.net/x.jpg', 'https://pps.whatsapp.net/x.jpg?oe=zz', 'nonsense'])('has no expiry for %s', (url) =>
    expect(linkExpiresAt(url)).toBeUndefined(),
  );
});
