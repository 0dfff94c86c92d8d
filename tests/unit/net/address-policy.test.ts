import { describe, expect, it } from 'vitest';
import {
  checkAddress,
  checkUrlShape,
  classifyAddress,
  DEFAULT_ALLOWED_PORTS,
  type OutboundPolicy,
  parseAllowList,
  parseIp,
  parsePortRule,
} from '../../../src/net/address-policy.ts';

const ip = (text: string) => {
  const parsed = parseIp(text);
  if (!parsed) throw new Error(`test address ${text} does not parse`);
  return parsed;
};
const strict: OutboundPolicy = { allowPrivate: [], ports: parsePortRule(DEFAULT_ALLOWED_PORTS) };

describe('address classification', () => {
  it.each([
    // address, the range it falls in (a substring of the reason)
    ['0.0.0.0', '"this network"'],
    ['0.1.2.3', '"this network"'],
    ['10.0.0.1', 'private (10.0.0.0/8)'],
    ['10.255.255.255', 'private (10.0.0.0/8)'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.100.100.200', 'carrier-grade NAT'], // Alibaba Cloud's metadata service
    ['100.127.255.255', 'carrier-grade NAT'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local'], // AWS, GCP and Azure metadata
    ['169.254.0.1', 'link-local'],
    ['172.16.0.1', 'private (172.16.0.0/12)'],
    ['172.31.255.255', 'private (172.16.0.0/12)'],
    ['192.0.0.192', 'IETF protocol assignments'], // Oracle Cloud's metadata
    ['192.0.2.10', 'documentation'],
    ['192.88.99.1', '6to4 relay'],
    ['192.168.1.1', 'private (192.168.0.0/16)'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved, including broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback (::1)'],
    ['0:0:0:0:0:0:0:1', 'loopback (::1)'],
    ['::ffff:127.0.0.1', 'loopback (127.0.0.0/8)'], // IPv4-mapped: the socket reaches 127.0.0.1
    ['::ffff:7f00:1', 'loopback (127.0.0.0/8)'], // the same, in hex groups
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:10.1.2.3', 'private (10.0.0.0/8)'],
    ['::ffff:0.0.0.0', '"this network"'],
    ['::127.0.0.1', 'IPv4-compatible'], // deprecated form, refused whatever it embeds
    ['::8.8.8.8', 'IPv4-compatible'],
    ['64:ff9b::127.0.0.1', 'NAT64 (64:ff9b::/96) of an address that is loopback'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 (64:ff9b::/96) of an address that is link-local'], // 169.254.169.254
    ['64:ff9b::192.168.0.1', 'NAT64 (64:ff9b::/96) of an address that is private'],
    ['64:ff9b:1::1', 'local-use NAT64'],
    ['100::1', 'discard-only'],
    ['2001::1', 'Teredo'],
    ['2001:2::1', 'IETF protocol assignments'], // benchmarking
    ['2001:db8::1', 'documentation'],
    ['2002:7f00:1::1', '6to4'], // 6to4 of 127.0.0.1
    ['3fff::1', 'documentation'],
    ['5f00::1', 'SRv6'],
    ['fc00::1', 'unique local'],
    ['fd00:ec2::254', 'unique local'], // AWS metadata over IPv6
    ['fdff:ffff::1', 'unique local'],
    ['fe80::1', 'link-local (fe80::/10)'],
    ['fe80::1%eth0', 'link-local (fe80::/10)'], // a zone id does not hide it
    ['febf::1', 'link-local (fe80::/10)'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast (ff00::/8)'],
    ['ff05::1:3', 'multicast (ff00::/8)'],
    ['4000::1', 'not global unicast'], // unallocated
    ['::2', 'IPv4-compatible'],
  ])('%s is refused: %s', (address, why) => {
    expect(classifyAddress(ip(address))).toContain(why);
  });

  it.each([
    // public unicast: reachable
    '1.1.1.1',
    '8.8.8.8',
    '9.255.255.255', // just below 10/8
    '11.0.0.0', // just above 10/8
    '100.63.255.255', // just below 100.64/10
    '100.128.0.0', // just above it
    '126.255.255.255',
    '128.0.0.0',
    '169.253.255.255',
    '172.15.255.255', // just below 172.16/12
    '172.32.0.0', // just above it
    '192.167.255.255',
    '192.169.0.0',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255', // last unicast before multicast
    '52.216.0.1', // an S3 address
    '2600:1f18::1', // AWS IPv6
    '2a00:1450:4001:81c::200e',
    '::ffff:8.8.8.8', // IPv4-mapped public: the socket reaches 8.8.8.8
    '64:ff9b::8.8.8.8', // NAT64 of a public address
    '2001:200::1', // just past 2001::/23
  ])('%s is public', (address) => {
    expect(classifyAddress(ip(address))).toBeNull();
  });

  it.each([
    // not IP literals (these go through DNS, whose answers are then checked)
    'localhost',
    '127.1',
    '0x7f.0.0.1',
    '2130706433',
    '010.0.0.1',
    '256.0.0.1',
    '1.2.3',
    '1.2.3.4.5',
    ':::1',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '12345::1',
    '::ffff:1.2.3',
    'g::1',
    '',
  ])('%j is not an IP literal', (text) => {
    expect(parseIp(text)).toBeNull();
  });

  it.each([
    // text, the same address written another way
    ['[::1]', '::1'],
    ['0:0:0:0:0:ffff:7f00:0001', '::ffff:127.0.0.1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ['1::', '1:0:0:0:0:0:0:0'],
    ['::1.2.3.4', '::102:304'],
  ])('%s parses as %s', (a, b) => {
    expect(parseIp(a)).toEqual(parseIp(b));
  });
});

describe('checkAddress', () => {
  const allow = (text: string, ports = DEFAULT_ALLOWED_PORTS): OutboundPolicy => ({ allowPrivate: parseAllowList(text), ports: parsePortRule(ports) });

  it.each([
    // policy, host, address, port, allowed?
    [strict, 's3.example.com', '52.216.0.1', 443, true],
    [strict, 's3.example.com', '52.216.0.1', 80, true],
    [strict, 's3.example.com', '52.216.0.1', 9000, false], // a public address on a port not in OUTBOUND_ALLOWED_PORTS
    [strict, 'localhost', '127.0.0.1', 443, false],
    [strict, 'evil.example', '10.0.0.5', 443, false], // a public name resolving to a private address
    [allow('127.0.0.1:9000'), '127.0.0.1', '127.0.0.1', 9000, true], // exactly what is allowed
    [allow('127.0.0.1:9000'), 'localhost', '127.0.0.1', 9000, true], // the rule is about the address
    [allow('127.0.0.1:9000'), '127.0.0.1', '127.0.0.1', 9001, false], // another port of the same host
    [allow('127.0.0.1:9000'), '127.0.0.2', '127.0.0.2', 9000, false],
    [allow('127.0.0.1:9000'), '::ffff:127.0.0.1', '::ffff:127.0.0.1', 9000, true], // the mapped form is the same socket
    [allow('[::1]:9000'), '::1', '::1', 9000, true],
    [allow('[::1]:9000'), '::1', '::1', 22, false],
    [allow('10.0.0.0/8'), 'minio.internal', '10.20.30.40', 9000, true], // a CIDR without a port: every port
    [allow('10.0.0.0/8'), 'x', '11.0.0.1', 9000, false],
    [allow('fd00::/8'), 'x', 'fd12::1', 443, true],
    [allow('minio:9000'), 'minio', '172.18.0.3', 9000, true], // a host name the operator controls
    [allow('minio:9000'), 'MINIO.', '172.18.0.3', 9000, true],
    [allow('minio:9000'), 'minio', '172.18.0.3', 9001, false],
    [allow('minio:9000'), 'other', '172.18.0.3', 9000, false],
    [allow('s3.example.com:9000'), 's3.example.com', '52.216.0.1', 9000, true], // a public host on an extra port
    [allow('', '*'), 's3.example.com', '52.216.0.1', 9000, true],
    [allow('', '*'), 'x', '169.254.169.254', 80, false], // any port, but still no metadata service
    [allow('', '443,9000-9010'), 'x', '52.216.0.1', 9005, true],
    [allow('', '443,9000-9010'), 'x', '52.216.0.1', 80, false],
  ] as const)('%#: %s at %s:%i -> %s', (policy, host, address, port, ok) => {
    const reason = checkAddress(policy, { host, address, port });
    if (ok) expect(reason).toBeNull();
    else expect(reason).toEqual(expect.any(String));
  });

  it('names the range in the reason (for the log), and refuses what is not an address', () => {
    expect(checkAddress(strict, { host: 'metadata.google.internal', address: '169.254.169.254', port: 80 })).toBe(
      '169.254.169.254 (for metadata.google.internal) is link-local, where cloud metadata services live (169.254.0.0/16) and not in OUTBOUND_ALLOW_PRIVATE',
    );
    expect(checkAddress(strict, { host: 'x', address: 'not-an-ip', port: 80 })).toMatch(/not an IP address/);
  });
});

describe('allowlist and port parsing', () => {
  it('reads CIDRs, addresses and host names with optional ports', () => {
    const rules = parseAllowList(' 127.0.0.1:9000, [::1]:9000 ,10.0.0.0/8,fd00::/8,::1, minio:9000, Storage.Internal ,192.168.1.7,');
    expect(rules.map((r) => [r.kind, r.port ?? null])).toEqual([
      ['net', 9000],
      ['net', 9000],
      ['net', null],
      ['net', null],
      ['net', null],
      ['host', 9000],
      ['host', null],
      ['net', null],
    ]);
    expect(rules[6]).toMatchObject({ kind: 'host', host: 'storage.internal' });
    expect(parseAllowList('')).toEqual([]);
  });

  it.each([
    '127.0.0.1:0',
    '127.0.0.1:65536',
    '127.0.0.1:x',
    '10.0.0.0/33',
    '300.1.1.1',
    '1.2.3',
    '[127.0.0.1]:80',
    'fd00::/129',
    'http://minio:9000',
    'minio:9000:1',
    'under score-and space',
  ])('refuses %j naming it', (entry) => {
    expect(() => parseAllowList(`127.0.0.1:9000,${entry}`)).toThrow(entry);
  });

  it('reads ports and ranges, or * for any', () => {
    expect(parsePortRule('*')).toBe('any');
    expect(parsePortRule('80, 443,9000-9010')).toEqual([
      [80, 80],
      [443, 443],
      [9000, 9010],
    ]);
    for (const bad of ['0', '65536', '9010-9000', 'http', '1-2-3', ',']) expect(() => parsePortRule(bad)).toThrow();
  });
});

describe('URL shape', () => {
  it.each([
    // url, the problem (null: fine)
    ['https://s3.example.com', null],
    ['http://127.0.0.1:9000/path', null], // the address is judged when connecting, not here
    ['ftp://example.com', 'must be an http or https URL'],
    ['file:///etc/passwd', 'must be an http or https URL'],
    ['gopher://127.0.0.1:6379/_INFO', 'must be an http or https URL'],
    ['https://user:pass@s3.example.com', 'must not contain a user name or password'],
    ['https://user@s3.example.com', 'must not contain a user name or password'],
  ])('%s -> %s', (url, problem) => {
    expect(checkUrlShape(new URL(url))).toBe(problem);
  });
});
