/**
 * Which addresses a URL chosen by a tenant may reach (export destinations today; contact points and
 * webhooks next). Pure: no I/O, no imports. The connect-time enforcement in ./outbound.ts calls
 * `checkAddress` for every address a host resolves to, just before the socket connects, so a name
 * that resolves somewhere else tomorrow (DNS rebinding) or a redirect is judged by where it goes then.
 *
 * The default is "public unicast only, on an allowed port": loopback, private, shared (CGNAT),
 * link-local (cloud metadata at 169.254.169.254), multicast, reserved and documentation ranges are
 * refused, and so are the IPv6 forms that carry one of them (IPv4-mapped ::ffff:a.b.c.d,
 * IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96) and the IPv6 ranges that are not global unicast.
 * Self-hosters name the private places a tenant may still reach (their MinIO) in an allowlist.
 */

export interface IpAddress {
  family: 4 | 6;
  /** The address as an unsigned integer (32 or 128 bits). */
  value: bigint;
}

export interface Cidr {
  family: 4 | 6;
  base: bigint;
  prefix: number;
}

/** One OUTBOUND_ALLOW_PRIVATE entry: addresses (or one host name), on one port or any. */
export type AllowRule =
  | { kind: 'net'; cidr: Cidr; port: number | undefined; text: string }
  | { kind: 'host'; host: string; port: number | undefined; text: string };

/** Inclusive port ranges, or any port. */
export type PortRule = 'any' | ReadonlyArray<readonly [number, number]>;

export interface OutboundPolicy {
  /** Places that may be reached even though their addresses are not public (or their port is not allowed). */
  allowPrivate: readonly AllowRule[];
  /** Ports a public address may be reached on. */
  ports: PortRule;
}

export const DEFAULT_ALLOWED_PORTS = '80,443';

// ---- parsing ---------------------------------------------------------------------------------

const V4_OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/;

/** Dotted-quad IPv4 only (what resolvers return and what sockets treat as a literal). */
export function parseIPv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => V4_OCTET.test(p))) return null;
  return parts.reduce((n, p) => (n << 8n) | BigInt(Number(p)), 0n);
}

/** IPv6 text (RFC 4291 forms, `::` compression, a trailing dotted IPv4, a `%zone` that is ignored). */
export function parseIPv6(text: string): bigint | null {
  let s = text;
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.slice(0, zone);
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return null;
  let tail: bigint[] = [];
  if (s.includes('.')) {
    // A trailing dotted IPv4 is the last two groups: "::ffff:1.2.3.4", "64:ff9b::10.0.0.1".
    const lastColon = s.lastIndexOf(':');
    const v4 = lastColon === -1 ? null : parseIPv4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    tail = [v4 >> 16n, v4 & 0xffffn];
    s = s.slice(0, lastColon + 1);
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if (![...head, ...rest].every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  const total = head.length + rest.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  const all = [...head.map((g) => BigInt(`0x${g}`)), ...Array<bigint>(8 - total).fill(0n), ...rest.map((g) => BigInt(`0x${g}`)), ...tail];
  return all.reduce((n, g) => (n << 16n) | g, 0n);
}

/** An IP literal (brackets around IPv6 allowed), or null when the text is not one. */
export function parseIp(text: string): IpAddress | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const v4 = parseIPv4(bare);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = bare.includes(':') ? parseIPv6(bare) : null;
  return v6 === null ? null : { family: 6, value: v6 };
}

export function parseCidr(text: string): Cidr | null {
  const [addr, bits, extra] = text.split('/');
  if (extra !== undefined || addr === undefined) return null;
  const ip = parseIp(addr);
  if (!ip) return null;
  const width = ip.family === 4 ? 32 : 128;
  const prefix = bits === undefined ? width : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!(prefix >= 0 && prefix <= width)) return null;
  // Host bits are dropped: 10.1.2.3/8 means 10.0.0.0/8.
  const shift = BigInt(width - prefix);
  return { family: ip.family, base: (ip.value >> shift) << shift, prefix };
}

function inCidr(ip: IpAddress, cidr: Cidr): boolean {
  if (ip.family !== cidr.family) return false;
  const shift = BigInt((ip.family === 4 ? 32 : 128) - cidr.prefix);
  return ip.value >> shift === cidr.base >> shift;
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : null;
}

/**
 * OUTBOUND_ALLOW_PRIVATE: comma-separated CIDRs (`10.0.0.0/8`, `fd00::/8`), addresses with an
 * optional port (`127.0.0.1:9000`, `[::1]:9000`, `::1`) and host names with an optional port
 * (`minio:9000`). An entry without a port allows every port. Throws naming the first bad entry.
 */
export function parseAllowList(text: string): AllowRule[] {
  const rules: AllowRule[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const rule = parseAllowEntry(entry);
    if (!rule) throw new Error(`"${entry}" is not a CIDR, an IP address or a host name (each optionally with :port)`);
    rules.push(rule);
  }
  return rules;
}

function parseAllowEntry(entry: string): AllowRule | null {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) {
    const cidr = parseCidr(bracketed[1]!);
    const port = bracketed[2] === undefined ? undefined : parsePort(bracketed[2]);
    return cidr && port !== null && cidr.family === 6 ? { kind: 'net', cidr, port, text: entry } : null;
  }
  // More than one colon: bare IPv6 (no port possible without brackets).
  if (entry.indexOf(':') !== entry.lastIndexOf(':')) {
    const cidr = parseCidr(entry);
    return cidr ? { kind: 'net', cidr, port: undefined, text: entry } : null;
  }
  const [name, portText] = entry.split(':') as [string, string | undefined];
  const port = portText === undefined ? undefined : parsePort(portText);
  if (port === null) return null;
  const cidr = parseCidr(name);
  if (cidr) return cidr.family === 4 ? { kind: 'net', cidr, port, text: entry } : null;
  if (/^[\d.]+(\/\d+)?$/.test(name)) return null; // looks like an IPv4 address or CIDR but is not a valid one
  const host = name.toLowerCase().replace(/\.$/, '');
  return HOST_NAME.test(host) ? { kind: 'host', host, port, text: entry } : null;
}

/** OUTBOUND_ALLOWED_PORTS: `*`, or comma-separated ports and ranges (`80,443,9000-9010`). */
export function parsePortRule(text: string): PortRule {
  if (text.trim() === '*') return 'any';
  const ranges: Array<readonly [number, number]> = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const [a, b, extra] = entry.split('-');
    const lo = parsePort(a ?? '');
    const hi = b === undefined ? lo : parsePort(b);
    if (extra !== undefined || lo === null || hi === null || hi < lo) throw new Error(`"${entry}" is not a port (1-65535) or a range of ports such as 9000-9010`);
    ranges.push([lo, hi]);
  }
  if (ranges.length === 0) throw new Error('names no port; use * for any port');
  return ranges;
}

// ---- the policy ------------------------------------------------------------------------------

const range = (text: string, label: string) => ({ cidr: parseCidr(text)!, label });

/** Non-public IPv4 ranges (IANA special-purpose registry, the ones not globally reachable). */
const SPECIAL_V4 = [
  range('0.0.0.0/8', '"this network" (0.0.0.0/8)'),
  range('10.0.0.0/8', 'private (10.0.0.0/8)'),
  range('100.64.0.0/10', 'shared address space / carrier-grade NAT (100.64.0.0/10)'),
  range('127.0.0.0/8', 'loopback (127.0.0.0/8)'),
  range('169.254.0.0/16', 'link-local, where cloud metadata services live (169.254.0.0/16)'),
  range('172.16.0.0/12', 'private (172.16.0.0/12)'),
  range('192.0.0.0/24', 'IETF protocol assignments (192.0.0.0/24)'),
  range('192.0.2.0/24', 'documentation (192.0.2.0/24)'),
  range('192.88.99.0/24', '6to4 relay anycast (192.88.99.0/24)'),
  range('192.168.0.0/16', 'private (192.168.0.0/16)'),
  range('198.18.0.0/15', 'benchmarking (198.18.0.0/15)'),
  range('198.51.100.0/24', 'documentation (198.51.100.0/24)'),
  range('203.0.113.0/24', 'documentation (203.0.113.0/24)'),
  range('224.0.0.0/4', 'multicast (224.0.0.0/4)'),
  range('240.0.0.0/4', 'reserved, including broadcast (240.0.0.0/4)'),
];

/** IPv6 forms whose last 32 bits are an IPv4 address that a connection would reach (or claims to). */
const V4_MAPPED = parseCidr('::ffff:0:0/96')!;
const V4_COMPATIBLE = parseCidr('::/96')!;
const NAT64 = parseCidr('64:ff9b::/96')!;
const GLOBAL_UNICAST_V6 = parseCidr('2000::/3')!;

const SPECIAL_V6 = [
  range('::/128', 'unspecified (::)'),
  range('::1/128', 'loopback (::1)'),
  range('64:ff9b:1::/48', 'local-use NAT64 (64:ff9b:1::/48)'),
  range('100::/64', 'discard-only (100::/64)'),
  range('2001::/23', 'IETF protocol assignments, including Teredo (2001::/23)'),
  range('2001:db8::/32', 'documentation (2001:db8::/32)'),
  range('2002::/16', '6to4 (2002::/16)'),
  range('3fff::/20', 'documentation (3fff::/20)'),
  range('5f00::/16', 'SRv6 segment identifiers (5f00::/16)'),
  range('fc00::/7', 'unique local (fc00::/7)'),
  range('fe80::/10', 'link-local (fe80::/10)'),
  range('fec0::/10', 'site-local (fec0::/10)'),
  range('ff00::/8', 'multicast (ff00::/8)'),
];

const embeddedV4 = (ip: IpAddress): IpAddress => ({ family: 4, value: ip.value & 0xffffffffn });

/** An IPv4-mapped IPv6 address is the IPv4 address for every purpose here (the socket reaches it). */
export function canonicalIp(ip: IpAddress): IpAddress {
  return ip.family === 6 && inCidr(ip, V4_MAPPED) ? embeddedV4(ip) : ip;
}

/** Why an address is not public, or null when it is a public unicast address. */
export function classifyAddress(address: IpAddress): string | null {
  const ip = canonicalIp(address);
  if (ip.family === 4) return SPECIAL_V4.find((r) => inCidr(ip, r.cidr))?.label ?? null;
  const special = SPECIAL_V6.find((r) => inCidr(ip, r.cidr));
  if (special) return special.label;
  if (inCidr(ip, V4_COMPATIBLE)) return 'IPv4-compatible IPv6 (::/96, deprecated)';
  if (inCidr(ip, NAT64)) {
    const inner = classifyAddress(embeddedV4(ip));
    return inner ? `NAT64 (64:ff9b::/96) of an address that is ${inner}` : null;
  }
  if (!inCidr(ip, GLOBAL_UNICAST_V6)) return 'not global unicast (outside 2000::/3)';
  return null;
}

function portAllowed(rule: PortRule, port: number): boolean {
  return rule === 'any' || rule.some(([lo, hi]) => port >= lo && port <= hi);
}

/**
 * Null when `host` (the name as written in the URL, lower case, or the literal) may be reached at
 * `address`:`port`; otherwise the reason, for the server's log only (tenants get one generic message).
 */
export function checkAddress(policy: OutboundPolicy, target: { host: string; address: string; port: number }): string | null {
  const parsed = parseIp(target.address);
  if (!parsed) return `${target.address} is not an IP address`;
  const ip = canonicalIp(parsed);
  const host = normaliseHost(target.host);
  const allowed = policy.allowPrivate.some(
    (r) => (r.port === undefined || r.port === target.port) && (r.kind === 'host' ? r.host === host : inCidr(ip, r.cidr)),
  );
  if (allowed) return null;
  const special = classifyAddress(ip);
  if (special) return `${target.address} (for ${host}) is ${special} and not in OUTBOUND_ALLOW_PRIVATE`;
  if (!portAllowed(policy.ports, target.port)) return `port ${target.port} is not in OUTBOUND_ALLOWED_PORTS`;
  return null;
}

/** Lower case, without IPv6 brackets or a trailing dot: the form allow rules and checks compare. */
export function normaliseHost(host: string): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare.toLowerCase().replace(/\.$/, '');
}

/**
 * The part of the policy that needs no DNS: an http(s) URL without credentials. Null when fine,
 * otherwise a reason that is safe to show (it is about the text the caller wrote).
 */
export function checkUrlShape(url: URL): string | null {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http or https URL';
  if (url.username || url.password) return 'must not contain a user name or password';
  if (!url.hostname) return 'must name a host';
  return null;
}
