/** Tags as text: `key=value` pairs joined by `sep`. */
export function formatTags(tags: Record<string, string>, sep = ', '): string {
  return Object.entries(tags).map(([k, v]) => `${k}=${v}`).join(sep);
}

/**
 * `key=value` pairs separated by commas or new lines to tags; an entry that is not one is named
 * (`{ error }`), so a form can say which before sending anything. Empty text is no tags.
 */
export function parseTags(text: string): { tags: Record<string, string> } | { error: string } {
  const tags: Record<string, string> = {};
  for (const entry of text.split(/[,\n]/).map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    if (eq <= 0) return { error: `"${entry}" is not tag=value` };
    tags[entry.slice(0, eq).trim()] = entry.slice(eq + 1).trim();
  }
  return { tags };
}

/** A series' name as the legend shows it: `metric{key=value, ...}`. */
export function seriesLabel(metric: string, tags: Record<string, string>): string {
  return Object.keys(tags).length ? `${metric}{${formatTags(tags)}}` : metric;
}
