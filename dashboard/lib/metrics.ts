/** A series' name as the legend shows it: `metric{key=value, ...}`. */
export function seriesLabel(metric: string, tags: Record<string, string>): string {
  const parts = Object.entries(tags).map(([k, v]) => `${k}=${v}`);
  return parts.length ? `${metric}{${parts.join(', ')}}` : metric;
}
