/**
 * Web-search syntax for log messages, compiled to a Postgres tsquery over the same tokens the index
 * holds. Both sides split text at every character that is not a letter, digit or mark, so a word
 * inside an identifier, path, URL or stack frame is findable: `NullPointerException` finds
 * `java.lang.NullPointerException`, and `api.example.com/v1` finds it as a phrase of its parts.
 *
 *   word            the word (case-insensitive, no stemming: any language with spaces between words)
 *   "exact phrase"  the words next to each other, in order (so does a term with punctuation inside)
 *   -word -"phrase" excludes lines containing it
 *   a OR b          either; OR binds tighter than the space between terms, as in web search
 *   prefix*         words starting with prefix
 *
 * The SQL side applies LOG_TEXT_TRANSLATE to the message before to_tsvector('simple', ...): every
 * ASCII punctuation character becomes a space. Non-ASCII punctuation is a separator for Postgres's
 * parser already, and for the splitter below.
 */

/** ASCII punctuation turned into spaces before indexing (kept in sync with the index migration). */
export const LOG_TEXT_PUNCTUATION = `.:/?=&_-@()[]{}<>,;"'|\\+*#$%^~!\``;

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * The indexed expression over a logs row aliased `alias`. It must stay character-for-character
 * equivalent to the index in supabase/migrations/20261126001000_log_search.sql, or the planner
 * cannot use the index (tests/integration/log-search.test.ts checks the plan).
 */
export function logSearchVector(alias: string): string {
  return `to_tsvector('simple'::regconfig, translate(${alias}.message, ${sqlString(LOG_TEXT_PUNCTUATION)}, ${sqlString(' '.repeat(LOG_TEXT_PUNCTUATION.length))}))`;
}

export const MAX_SEARCH_WORDS = 32;

const WORD = /[\p{L}\p{N}\p{M}]+/gu;

export class SearchSyntaxError extends Error {}

interface Item {
  negate: boolean;
  words: string[];
  prefix: boolean;
}

function words(text: string): string[] {
  return (text.toLowerCase().match(WORD) ?? []) as string[];
}

/** Splits a query into OR-groups of items; each group is ANDed with the next. */
function parse(input: string): Item[][] {
  const groups: Item[][] = [];
  let i = 0;
  let pendingOr = false;
  while (i < input.length) {
    const ch = input[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    let negate = false;
    let j = i;
    if (input[j] === '-' && j + 1 < input.length && !/\s/.test(input[j + 1]!)) {
      negate = true;
      j++;
    }
    let raw: string;
    let quoted = false;
    if (input[j] === '"') {
      const end = input.indexOf('"', j + 1);
      raw = input.slice(j + 1, end < 0 ? input.length : end);
      i = end < 0 ? input.length : end + 1;
      quoted = true;
    } else {
      let end = j;
      while (end < input.length && !/\s/.test(input[end]!)) end++;
      raw = input.slice(j, end);
      i = end;
    }
    if (!quoted && !negate && raw === 'OR') {
      pendingOr = groups.length > 0;
      continue;
    }
    const prefix = !quoted && raw.endsWith('*');
    const item: Item = { negate, words: words(raw), prefix };
    if (item.words.length === 0) continue;
    if (pendingOr) groups[groups.length - 1]!.push(item);
    else groups.push([item]);
    pendingOr = false;
  }
  return groups;
}

function itemQuery(item: Item): string {
  const lexemes = item.words.map((w, k) => `'${w}'${item.prefix && k === item.words.length - 1 ? ':*' : ''}`);
  const body = lexemes.length === 1 ? lexemes[0]! : `(${lexemes.join(' <-> ')})`;
  return item.negate ? `!${body}` : body;
}

/**
 * The tsquery text for a search, for to_tsquery('simple', ...). Throws SearchSyntaxError when the
 * query has no searchable word or too many.
 */
export function compileSearch(input: string): string {
  const groups = parse(input);
  const count = groups.reduce((n, g) => n + g.reduce((m, it) => m + it.words.length, 0), 0);
  if (count === 0) throw new SearchSyntaxError('contains no searchable words (letters or digits)');
  if (count > MAX_SEARCH_WORDS) throw new SearchSyntaxError(`has more than ${MAX_SEARCH_WORDS} words`);
  return groups.map((g) => (g.length === 1 ? itemQuery(g[0]!) : `(${g.map(itemQuery).join(' | ')})`)).join(' & ');
}
