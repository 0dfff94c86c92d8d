/**
 * Reads a Server-Sent Events response as a client would: events are blocks separated by a blank
 * line, `field: value` lines, comment lines (`: heartbeat`) ignored.
 */
export function sseReader(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  /** Every event read so far, in order (skipped ones included). */
  const seen: Array<Record<string, string>> = [];
  return {
    seen,
    /** The next event named `name` (earlier events of other names are skipped); throws if the stream ends first. */
    async next(name: string): Promise<Record<string, string>> {
      for (;;) {
        const at = buffer.indexOf('\n\n');
        if (at >= 0) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) if (!line.startsWith(':')) fields[line.slice(0, line.indexOf(':'))] = line.slice(line.indexOf(':') + 1).trim();
          if (Object.keys(fields).length > 0) seen.push(fields);
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

/** Waits, yielding to the event loop, until `ready()` holds; throws after `rounds` turns. */
export async function until(ready: () => boolean, what: string, rounds = 2500): Promise<void> {
  for (let i = 0; !ready(); i++) {
    if (i >= rounds) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * Reads a stream whose loop sleeps on a fake clock until event `name` arrives: each time nothing
 * arrived and the loop is asleep (a sleeper on the clock), moves the clock by `ms`, one poll at a
 * time. Answers the event and how many polls it took; throws past `maxPolls`. Counting polls on the
 * fake clock, not wall time, is what makes "within a poll" an assertion that cannot flake.
 */
export async function nextEventPolling(
  stream: ReturnType<typeof sseReader>,
  clock: { sleepers(): number; advance(ms: number): void },
  name: string,
  opts: { ms: number; maxPolls: number },
): Promise<{ event: Record<string, string>; polls: number }> {
  let arrived = false;
  const next = stream.next(name).finally(() => {
    arrived = true;
  });
  next.catch(() => {});
  let polls = 0;
  for (;;) {
    await until(() => arrived || clock.sleepers() > 0, `event ${name} or a sleeping stream`);
    if (arrived) return { event: await next, polls };
    if (polls >= opts.maxPolls) throw new Error(`no ${name} event within ${opts.maxPolls} polls`);
    clock.advance(opts.ms);
    polls += 1;
  }
}
