/**
 * Search snippets: an excerpt of a message's content around what the query
 * matched, HTML-escaped, each match in <mark>. Built here rather than with
 * ts_headline, which drops anything that looks like a tag from the excerpt.
 * Matching follows the index: words compared lower-cased, characters of
 * scripts written without spaces one by one, quoted phrases and runs of such
 * characters only where their words stand in that order.
 */

/** Kana, CJK ideographs and Hangul: one word per character, as the index has them (chat_search_text). */
export const UNSPACED = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]/u;
const WORD = /[\p{L}\p{N}\p{M}]+/gu;

interface Token {
  start: number;
  end: number;
  word: string;
}

/** The words of a text as the index sees them, with where each stands. */
function tokens(text: string): Token[] {
  const found: Token[] = [];
  for (const match of text.matchAll(WORD)) {
    let start = match.index;
    let run = '';
    for (const char of match[0]) {
      if (UNSPACED.test(char)) {
        if (run) found.push({ start: start - run.length, end: start, word: run.toLowerCase() });
        run = '';
        found.push({ start, end: start + char.length, word: char });
      } else {
        run += char;
      }
      start += char.length;
    }
    if (run) found.push({ start: start - run.length, end: start, word: run.toLowerCase() });
  }
  return found;
}

/** The phrases a web-search query looks for (quoted phrases, runs of unspaced characters, single words), not its -exclusions or `or`. */
export function wantedPhrases(query: string): string[][] {
  const phrases: string[][] = [];
  const parts = query.match(/-?"[^"]*"?|\S+/g) ?? [];
  for (const part of parts) {
    if (part.startsWith('-') || part.toLowerCase() === 'or') continue;
    const words = tokens(part.replace(/"/g, ' ')).map((t) => t.word);
    if (words.length === 0) continue;
    if (part.includes('"')) phrases.push(words);
    else {
      // Outside quotes, words stand alone; a run of unspaced characters is one phrase.
      let run: string[] = [];
      for (const t of tokens(part)) {
        if (UNSPACED.test(t.word)) run.push(t.word);
        else {
          if (run.length) phrases.push(run);
          run = [];
          phrases.push([t.word]);
        }
      }
      if (run.length) phrases.push(run);
    }
  }
  return phrases;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** At most this many characters of content around the first match, cut at word boundaries. */
const EXCERPT = 240;

export function snippetHtml(content: string, query: string): string {
  const words = tokens(content);
  const spans: [number, number][] = [];
  for (const phrase of wantedPhrases(query)) {
    for (let i = 0; i + phrase.length <= words.length; i++) {
      if (phrase.every((word, k) => words[i + k].word === word)) spans.push([words[i].start, words[i + phrase.length - 1].end]);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const span of spans) {
    const last = merged[merged.length - 1];
    // Overlapping matches, and matches of unspaced characters that touch, read as one.
    if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
    else merged.push([...span]);
  }
  let from = 0;
  let to = content.length;
  if (content.length > EXCERPT) {
    const first = merged[0]?.[0] ?? 0;
    from = Math.max(0, first - Math.floor(EXCERPT / 3));
    to = Math.min(content.length, from + EXCERPT);
    from = words.find((t) => t.end > from)?.start ?? from;
    to = [...words].reverse().find((t) => t.start < to)?.end ?? to;
  }
  let html = from > 0 ? '… ' : '';
  let at = from;
  for (const [start, end] of merged) {
    if (end <= from || start >= to) continue;
    html += `${escapeHtml(content.slice(at, Math.max(at, start)))}<mark>${escapeHtml(content.slice(Math.max(at, start), Math.min(end, to)))}</mark>`;
    at = Math.min(end, to);
  }
  html += escapeHtml(content.slice(at, to));
  return to < content.length ? `${html} …` : html;
}
