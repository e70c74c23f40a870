import { refuseSource } from '../../src/images/source-policy';

const policy = { allowedHosts: ['pps.whatsapp.net', '*.cdn.example.com', '127.0.0.1:8080'], allowHttp: false };

describe('refuseSource', () => {
  it.each([
    'https://pps.whatsapp.net/v/t61/x.jpg?oe=65F0A1B2',
    'https://PPS.WhatsApp.net/x.jpg',
    'https://a.cdn.example.com/x.jpg',
    'https://127.0.0.1:8080/x.jpg',
  ])('allows %s', (url) => expect(refuseSource(url, policy)).toBeUndefined());

  it.each([
    ['http://pps.whatsapp.net/x.jpg', /scheme/],
    ['https://pps.whatsapp.net.evil.com/x.jpg', /not in AVATAR_SOURCE_HOSTS/],
    ['https://evil.com/pps.whatsapp.net/x.jpg', /not in AVATAR_SOURCE_HOSTS/],
    ['https://pps.whatsapp.net@evil.com/x.jpg', /credentials/],
    ['https://user:pw@pps.whatsapp.net/x.jpg', /credentials/],
    ['https://cdn.example.com/x.jpg', /not in AVATAR_SOURCE_HOSTS/],
    ['https://127.0.0.1:8081/x.jpg', /not in AVATAR_SOURCE_HOSTS/],
    ['https://127.0.0.1/x.jpg', /not in AVATAR_SOURCE_HOSTS/],
    ['file:///etc/passwd', /scheme/],
    ['not a url', /not a valid URL/],
  ])('refuses %s', (url, reason) => expect(refuseSource(url, policy)).toMatch(reason));

  it('allows http only when told to', () => {
    expect(refuseSource('http://pps.whatsapp.net/x.jpg', { ...policy, allowHttp: true })).toBeUndefined();
  });
});
