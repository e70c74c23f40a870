import { isReservedAddress, refuseSource } from '../../src/images/source-policy';

const policy = { allowedHosts: ['pps.whatsapp.net', '*.cdn.example.com', '127.0.0.1:8080', '93.184.216.34'], allowHttp: false, allowPrivate: true };

describe('refuseSource', () => {
  it.each([
    'https://pps.whatsapp.net/v/t61/x.jpg?oe=65F0A1B2',
    'https://PPS.WhatsApp.net/x.jpg',
    'https://pps.whatsapp.net:443/x.jpg',
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
    // An entry without a port allows only the scheme's default port.
    ['https://pps.whatsapp.net:8443/x.jpg', /not in AVATAR_SOURCE_HOSTS/],
    ['https://a.cdn.example.com:6379/x.jpg', /not in AVATAR_SOURCE_HOSTS/],
    ['file:///etc/passwd', /scheme/],
    ['not a url', /not a valid URL/],
  ])('refuses %s', (url, reason) => expect(refuseSource(url, policy)).toMatch(reason));

  it('allows http only when told to', () => {
    expect(refuseSource('http://pps.whatsapp.net/x.jpg', { ...policy, allowHttp: true })).toBeUndefined();
  });

  it('refuses an allowlisted private address literal unless private addresses are allowed', () => {
    expect(refuseSource('https://127.0.0.1:8080/x.jpg', { ...policy, allowPrivate: false })).toMatch(/private or reserved/);
    expect(refuseSource('https://93.184.216.34/x.jpg', { ...policy, allowPrivate: false })).toBeUndefined();
  });
});

describe('isReservedAddress', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::7f00:1', '::ffff:7f00:1', '::ffff:0:7f00:1', 'fec0::1', '2002:7f00:1::1', 'not-an-ip'])(
    '%s is reserved',
    (address) => expect(isReservedAddress(address)).toBe(true),
  );
  it.each(['93.184.216.34', '157.240.1.1', '2a03:2880:f12f:83:face:b00c:0:25de', '::ffff:157.240.1.1'])('%s is public', (address) =>
    expect(isReservedAddress(address)).toBe(false),
  );
});
