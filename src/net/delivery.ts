/**
 * What one attempt to deliver something to a receiver a tenant chose came to, and the SMTP port: the
 * shared vocabulary of everything that leaves the building (alert notifiers, webhooks). A sender
 * never throws for an expected failure; it returns a result the delivery engine can branch on.
 */

export type DeliveryResult =
  | { ok: true; status: number | null; detail?: string }
  | {
      ok: false;
      retryable: boolean;
      status: number | null;
      /** How long the receiver asked us to wait (Retry-After), never negative. */
      retryAfterMs: number | null;
      /** Safe to show tenants: never an internal address, a secret or a stack. */
      error: string;
      /** The receiver says the endpoint is gone for good (410): stop sending to it. */
      disable?: boolean;
    };

/** One email, as the SMTP transport sends it. */
export interface SmtpMessage {
  host: string;
  port: number;
  /** true: TLS from the first byte (465); false: STARTTLS when offered (required when a password is sent). */
  secure: boolean;
  username?: string;
  password?: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** RFC 5322 Message-ID, `<...@...>`; the same on every retry of one notification. */
  messageId: string;
}

/** Sends mail over SMTP. Node has one (src/node/smtp.ts); edge runtimes, where SMTP ports are blocked, have none. */
export interface SmtpSender {
  send(msg: SmtpMessage): Promise<DeliveryResult>;
}

