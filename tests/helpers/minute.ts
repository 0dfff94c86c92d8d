/**
 * Rate limits counted per wall-clock minute (fixed windows, or sliding ones weighted by the minute
 * before) see a burst that straddles a minute's end as two smaller ones. A test that needs its
 * burst inside one minute calls this first: when less than `needMs` of the current minute is left,
 * it waits for the next one to begin.
 */
export async function withinOneMinute(needMs: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < needMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
}
