/**
 * The S3 side of exports: one client per destination, PutObject only. Works with AWS S3, Supabase
 * Storage's S3 endpoint, MinIO and other S3-compatible servers.
 *
 * The endpoint is chosen by the destination's owner, so every connection goes through the outbound
 * guard (src/net/outbound.ts): the client's request handler uses the guard's agents, which check the
 * addresses the endpoint resolves to when each socket connects, at create time and at every run.
 *
 * The SDK is imported on first use, so the logs function does not load it for every search.
 * Checksums are sent only when an operation requires them: several S3-compatible servers reject the
 * SDK's default CRC32 trailers.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { asOutboundError, type OutboundGuard, UNREACHABLE_MESSAGE } from '../net/outbound.ts';

export interface DestinationAccess {
  endpoint: string | null;
  region: string;
  bucket: string;
  forcePathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface ObjectStore {
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  close(): void;
}

/**
 * A failed S3 call. `code` is the S3 error code when a known S3 error came back (NoSuchBucket,
 * AccessDenied, ...), otherwise `Unreachable`: a refused address, a network failure and an answer
 * that is not S3's all read the same to tenants. `detail` says which, for the server's log.
 */
export class ObjectStoreError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | undefined,
    readonly detail: string,
  ) {
    super(message);
    this.name = 'ObjectStoreError';
  }
}

/** The @aws-sdk/client-s3 version pinned in package.json and deno.json. */
const SDK_VERSION = '3.1175.0';

let sdk: Promise<[typeof import('@aws-sdk/client-s3'), typeof import('@smithy/node-http-handler')]> | undefined;
const loadSdk = () => (sdk ??= Promise.all([import('@aws-sdk/client-s3'), import('@smithy/node-http-handler')]));

export async function openObjectStore(access: DestinationAccess, outbound: OutboundGuard): Promise<ObjectStore> {
  // Scheme and credentials in the URL: saved destinations may predate the check.
  if (access.endpoint) {
    try {
      outbound.checkUrl(access.endpoint);
    } catch (err) {
      const problem = asOutboundError(err, 'endpoint').detail;
      throw new ObjectStoreError('InvalidEndpoint', `The endpoint ${problem}`, undefined, problem);
    }
  }
  const [{ S3Client: Client, PutObjectCommand }, { NodeHttpHandler }] = await loadSdk();
  // Fresh agents per client: destroy() below destroys them, and nothing is pooled across destinations.
  let agents;
  try {
    agents = await outbound.agents();
  } catch (err) {
    throw toStoreError(err, 'Connecting');
  }
  const client: S3Client = new Client({
    region: access.region,
    ...(access.endpoint ? { endpoint: access.endpoint } : {}),
    forcePathStyle: access.forcePathStyle,
    credentials: { accessKeyId: access.accessKeyId, secretAccessKey: access.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    followRegionRedirects: true,
    maxAttempts: 3,
    requestHandler: new NodeHttpHandler({ httpAgent: agents.http, httpsAgent: agents.https, connectionTimeout: 5_000, requestTimeout: 120_000 }),
    // The SDK's default user agent reads os.release(), which Deno allows only with --allow-sys.
    defaultUserAgentProvider: async () => [['observai-hub'], ['aws-sdk-js', SDK_VERSION]],
  });
  return {
    async put(key, body, contentType) {
      try {
        await client.send(new PutObjectCommand({ Bucket: access.bucket, Key: key, Body: body, ContentType: contentType, ContentLength: body.byteLength }));
      } catch (err) {
        throw toStoreError(err, `PutObject ${access.bucket}/${key}`);
      }
    },
    close() {
      client.destroy();
    },
  };
}

/**
 * S3 error codes whose messages we pass on. The endpoint is chosen by the destination's owner, so a
 * server that is not S3 could answer anything, and how a connection failed (refused, timed out, TLS)
 * tells a prober which ports are open: every other outcome becomes the one UNREACHABLE_MESSAGE (in
 * API errors and in the run's `error`, which every reader of the project sees).
 */
const KNOWN_S3_CODES = new Set([
  'AccessDenied',
  'AuthorizationHeaderMalformed',
  'BadDigest',
  'EntityTooLarge',
  'ExpiredToken',
  'IllegalLocationConstraintException',
  'InternalError',
  'InvalidAccessKeyId',
  'InvalidArgument',
  'InvalidBucketName',
  'InvalidRequest',
  'InvalidToken',
  'NoSuchBucket',
  'PermanentRedirect',
  'QuotaExceeded',
  'RequestTimeout',
  'ServiceUnavailable',
  'SignatureDoesNotMatch',
  'SlowDown',
]);

function toStoreError(err: unknown, what: string): ObjectStoreError {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  // The SDK names S3 errors by their code (from the XML body); without an HTTP status nothing answered.
  if (status !== undefined && e.name && KNOWN_S3_CODES.has(e.name)) {
    return new ObjectStoreError(e.name, `${what} failed: ${e.name} (HTTP ${status}): ${String(e.message ?? err).slice(0, 300)}`, status, `S3 ${e.name}`);
  }
  const detail = status !== undefined ? `HTTP ${status} ${e.name ?? ''}, not a known S3 error` : asOutboundError(err, what).detail;
  return new ObjectStoreError('Unreachable', `${what} failed: ${UNREACHABLE_MESSAGE}`, undefined, detail);
}
