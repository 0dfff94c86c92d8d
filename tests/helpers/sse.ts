/**
 * Reads a Server-Sent Events response as a client would: events are blocks separated by a blank
 * line, `field: value` lines, comment lines (`: heartbeat`) ignored.
 */
export function sseReader(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    /** The next event named `name` (earlier events of other names are skipped); throws if the stream ends first. */
    async next(name: string): Promise<Record<string, string>> {
      for (;;) {
        const at = buffer.indexOf('\n\n');
        if (at >= 0) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) if (!line.startsWith(':')) fields[line.slice(0, line.indexOf(':'))] = line.slice(line.indexOf(':') + 1).trim();
          if (fields.event === name) return fields;
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => reader.cancel().catch(() => {}),
  };
}
