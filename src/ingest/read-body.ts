import { AppError } from '../core/errors.ts';

/**
 * Reads a request body, gunzipping when Content-Encoding says so, and stops as soon as the
 * decompressed size passes `maxBytes` (413): a small zip bomb never expands in memory.
 */
export async function readBody(req: Request, maxBytes: number): Promise<Uint8Array> {
  const encoding = (req.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${encoding} is not supported; send identity or gzip`);
  }
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (encoding === 'identity' && declared > maxBytes) throw tooLarge(maxBytes);
  if (!req.body) return new Uint8Array();
  let stream: ReadableStream<Uint8Array> = req.body;
  if (encoding === 'gzip') stream = stream.pipeThrough(new DecompressionStream('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('BAD_REQUEST', encoding === 'gzip' ? 'The gzip body is corrupt or truncated' : 'The request body could not be read', { cause: err });
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function tooLarge(maxBytes: number): AppError {
  return new AppError('PAYLOAD_TOO_LARGE', `The request body is larger than ${maxBytes} bytes after decompression`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 strictly: invalid bytes are a 400, not silently replaced. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new AppError('BAD_REQUEST', 'The body is not valid UTF-8');
  }
}
