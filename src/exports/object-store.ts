/**
 * The S3 side of exports: one client per destination, PutObject only. Works with AWS S3, Supabase
 * Storage's S3 endpoint, MinIO and other S3-compatible servers.
 *
 * The SDK is imported on first use, so the logs function does not load it for every search.
 * Checksums are sent only when an operation requires them: several S3-compatible servers reject the
 * SDK's default CRC32 trailers.
 */
import type { S3Client } from '@aws-sdk/client-s3';

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

/** A failed S3 call: the S3 error code when the server sent one (NoSuchBucket, AccessDenied, ...), else the network error's. */
export class ObjectStoreError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = 'ObjectStoreError';
  }
}

/** The @aws-sdk/client-s3 version pinned in package.json and deno.json. */
const SDK_VERSION = '3.1175.0';

let sdk: Promise<typeof import('@aws-sdk/client-s3')> | undefined;
const loadSdk = () => (sdk ??= import('@aws-sdk/client-s3'));

export async function openObjectStore(access: DestinationAccess): Promise<ObjectStore> {
  const { S3Client: Client, PutObjectCommand } = await loadSdk();
  const client: S3Client = new Client({
    region: access.region,
    ...(access.endpoint ? { endpoint: access.endpoint } : {}),
    forcePathStyle: access.forcePathStyle,
    credentials: { accessKeyId: access.accessKeyId, secretAccessKey: access.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    followRegionRedirects: true,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 120_000 },
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
 * server that is not S3 could answer anything: for other answers only the code and HTTP status are
 * kept (in API errors and in the run's `error`, which every reader of the project sees).
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
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  // The SDK names S3 errors by their code; network failures carry a Node errno in `code`.
  const code = status !== undefined ? (e.name ?? 'UnknownError') : (e.code ?? e.name ?? 'NetworkError');
  const detail = status === undefined || KNOWN_S3_CODES.has(code) ? `: ${String(e.message ?? err).slice(0, 300)}` : '';
  return new ObjectStoreError(code, `${what} failed: ${code}${status ? ` (HTTP ${status})` : ''}${detail}`, status);
}
