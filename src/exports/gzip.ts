/**
 * Gzip through CompressionStream, which Node (18+) and Deno both provide, so a part is compressed
 * by the same mechanism on the gateway and on the edge. Output is collected while input is written,
 * so memory holds the compressed bytes, not the NDJSON text.
 */
const encoder = new TextEncoder();

export interface GzipWriter {
  write(text: string): Promise<void>;
  finish(): Promise<Uint8Array>;
  abort(): void;
}

export function gzipWriter(): GzipWriter {
  const stream = new CompressionStream('gzip');
  const writer = stream.writable.getWriter();
  const output = new Response(stream.readable).arrayBuffer();
  // If the writer is aborted nobody awaits the output; keep its rejection from going unhandled.
  output.catch(() => {});
  return {
    write: (text) => writer.write(encoder.encode(text)),
    async finish() {
      await writer.close();
      return new Uint8Array(await output);
    },
    abort() {
      writer.abort().catch(() => {});
    },
  };
}
