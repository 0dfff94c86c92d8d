/**
 * The Node SmtpSender (nodemailer), with the same SSRF stance as the HTTP guard (src/net/outbound.ts):
 * the SMTP host is resolved here, every address it resolves to is judged by the address policy
 * (`checkAddress`, with the guard's private allow-list), and nodemailer is handed the checked IP,
 * never the name, with `servername` set to the name for SNI and certificate checks. A name that
 * resolves elsewhere a moment later (DNS rebinding) changes nothing: the socket goes to the IP that
 * was judged. Ports: SMTP's own (25, 465, 587, 2525), not the HTTP ones; a private address on another
 * port is reachable only when the allow-list names it (a self-hoster's relay, or a test server).
 *
 * Security of the session: a password is never sent in clear. With `secure: false` and a password,
 * STARTTLS is required (nodemailer's requireTLS); without one, STARTTLS is used when offered.
 * Certificates are verified against the host name (tls.servername), never the IP.
 *
 * Results: an SMTP reply 4xx is retryable, 5xx permanent (the reply code is the result's `status`);
 * no reply at all (refused, unreachable, timed out, TLS failed) is retryable. Tenants see the server's
 * reply text (their own server) or the guard's generic message, never an address or errno.
 */
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import nodemailer from 'nodemailer';
import type { DeliveryResult, SmtpMessage, SmtpSender } from '../net/delivery.ts';
import type { Logger } from '../core/logger.ts';
import { checkAddress, normaliseHost, type OutboundPolicy, parsePortRule, type PortRule } from '../net/address-policy.ts';
import { type ResolveHost, systemResolve, UNREACHABLE_MESSAGE } from '../net/outbound.ts';

export const DEFAULT_SMTP_PORTS = '25,465,587,2525';
export const DEFAULT_SMTP_TIMEOUT_MS = 15_000;

export interface NodeSmtpOptions {
  /** The outbound policy (config.outbound): its private allow-list applies here; its ports do not. */
  policy: OutboundPolicy;
  /** Ports a public SMTP server may be reached on; default 25, 465, 587, 2525. */
  ports?: PortRule;
  resolve?: ResolveHost;
  /** Bound on each phase (DNS, connect, greeting, idle socket); the whole send gets twice that. Default 15 s. */
  timeoutMs?: number;
  /** Extra TLS trust (a private CA; tests). Verification itself is never turned off. */
  tls?: Pick<ConnectionOptions, 'ca'>;
  /** The EHLO name; default nodemailer's (the machine's host name). */
  clientName?: string;
  /** Gets the reasons tenants are not told (refused addresses, errno codes). */
  logger?: Pick<Logger, 'warn'>;
}

const noAnswer = (): DeliveryResult => ({ ok: false, retryable: true, status: null, retryAfterMs: null, error: UNREACHABLE_MESSAGE });

function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (err) {
        reject(err);
      }
    }, ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** A nodemailer failure as a DeliveryResult (by its SMTP reply code, never its message text). */
export function smtpFailure(err: unknown): DeliveryResult {
  const e = (err ?? {}) as { code?: string; originalCode?: string; responseCode?: number; response?: string };
  const code = typeof e.responseCode === 'number' && e.responseCode >= 400 && e.responseCode < 600 ? e.responseCode : null;
  if (code !== null) {
    const said = smtpReply(e.response) || String(code);
    const error = e.code === 'EAUTH' ? `The mail server refused the user name or password: ${said}` : `The mail server answered ${said}`;
    return { ok: false, retryable: code < 500, status: code, retryAfterMs: null, error };
  }
  // A certificate Node refused (ERR_TLS_CERT_ALTNAME_INVALID, CERT_HAS_EXPIRED, ...) arrives as ESOCKET
  // with Node's code kept as originalCode: it is said as a TLS failure, which the tenant can fix.
  const tls = e.code === 'ETLS' || /CERT|SSL|TLS/.test(e.originalCode ?? '');
  switch (tls ? 'ETLS' : e.code) {
    case 'EAUTH':
      return { ok: false, retryable: false, status: null, retryAfterMs: null, error: 'The mail server offers no way to log in with the configured user name' };
    case 'EENVELOPE':
    case 'EMESSAGE':
      return { ok: false, retryable: false, status: null, retryAfterMs: null, error: 'The mail server could not take this message (sender or recipients)' };
    case 'ETLS':
      return {
        ok: false,
        retryable: true,
        status: null,
        retryAfterMs: null,
        error: 'No TLS session with the mail server: it must offer STARTTLS with a certificate valid for its host name (a password is never sent in clear), or use secure on port 465',
      };
    default:
      return noAnswer();
  }
}

export function createNodeSmtpSender(opts: NodeSmtpOptions): SmtpSender {
  const policy: OutboundPolicy = { allowPrivate: opts.policy.allowPrivate, ports: opts.ports ?? parsePortRule(DEFAULT_SMTP_PORTS) };
  const resolve = opts.resolve ?? systemResolve;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_SMTP_TIMEOUT_MS;

  /** The address to connect to, or null (refused or unresolvable: the tenant is told neither). */
  async function pickAddress(host: string, port: number): Promise<string | null> {
    const found = isIP(host)
      ? [{ address: host, family: isIP(host) }]
      : await withTimeout(resolve(host), timeoutMs, () => {
          throw new Error(`resolving ${host} timed out`);
        });
    if (found.length === 0) throw new Error(`${host} has no address`);
    // Any refused address refuses the name: a name mixing public and private answers is steering us.
    for (const a of found) {
      const reason = checkAddress(policy, { host, address: a.address, port });
      if (reason) {
        opts.logger?.warn({ host, port, reason }, 'smtp destination refused');
        return null;
      }
    }
    return (found.find((a) => a.family === 4) ?? found[0]!).address;
  }

  return {
    async send(msg: SmtpMessage): Promise<DeliveryResult> {
      const host = normaliseHost(msg.host);
      let address: string | null;
      try {
        address = await pickAddress(host, msg.port);
      } catch (err) {
        opts.logger?.warn({ host, err: String((err as Error)?.message ?? err) }, 'smtp destination did not resolve');
        return noAnswer();
      }
      if (address === null) return noAnswer();

      const servername = isIP(host) ? undefined : host;
      const transport = nodemailer.createTransport({
        host: address,
        port: msg.port,
        secure: msg.secure,
        ...(servername ? { servername } : {}),
        tls: { ...(servername ? { servername } : {}), ...(opts.tls?.ca ? { ca: opts.tls.ca } : {}), minVersion: 'TLSv1.2', rejectUnauthorized: true },
        requireTLS: !msg.secure && msg.password !== undefined,
        ...(msg.username ? { auth: { user: msg.username, pass: msg.password ?? '' } } : {}),
        ...(opts.clientName ? { name: opts.clientName } : {}),
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
        dnsTimeout: timeoutMs,
        disableFileAccess: true,
        disableUrlAccess: true,
        logger: false,
      });
      const sending = transport
        .sendMail({
          from: msg.from,
          to: msg.to,
          subject: msg.subject,
          text: msg.text,
          html: msg.html,
          messageId: msg.messageId,
          // RFC 3834: an automatic message; vacation responders and Exchange stay quiet.
          headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
        })
        .then(
          (info): DeliveryResult => {
            const status = Number(/^\d{3}/.exec(String(info.response ?? ''))?.[0] ?? 250);
            const rejected = (info.rejected ?? []).length;
            return { ok: true, status, ...(rejected ? { detail: `${rejected} of ${msg.to.length} recipients were refused by the mail server` } : {}) };
          },
          (err: unknown): DeliveryResult => {
            const e = err as { code?: string; originalCode?: string; responseCode?: number; message?: string };
            if (e?.responseCode === undefined) opts.logger?.warn({ host, port: msg.port, code: e?.code, originalCode: e?.originalCode, err: e?.message }, 'smtp send failed');
            return smtpFailure(err);
          },
        );
      try {
        return await withTimeout(sending, timeoutMs * 2, noAnswer);
      } finally {
        transport.close();
      }
    },
  };
}

/**
 * A mail server's reply text, one line, bounded: what it says of a refused recipient ("No such user
 * here") is what the tenant needs to fix the address.
 */
function smtpReply(text: string | undefined, max = 300): string {
  if (!text) return '';
  // Control characters out (a reply could try to forge lines in a log or a UI), whitespace collapsed.
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
