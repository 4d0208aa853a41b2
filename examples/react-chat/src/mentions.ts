/**
 * Mentions are written `@Name` in the text; the ids of the people mentioned go
 * to the API separately (`mentionIds`), so the text is only what is shown.
 */

export interface Mentionable {
  id: string;
  name: string;
}

/** The `@query` typed just before the caret (at the start or after a space), if any: what the picker filters by. */
export function mentionQueryAt(text: string, caret: number): { start: number; query: string } | null {
  const match = /(?:^|\s)@([^\s@]*)$/.exec(text.slice(0, caret));
  if (!match) return null;
  return { start: caret - match[1].length - 1, query: match[1] };
}

/** The text with the `@query` at `start` (up to the caret) replaced by `@Name `, and where the caret goes. */
export function insertMention(text: string, start: number, caret: number, name: string): { text: string; caret: number } {
  const inserted = `@${name} `;
  return { text: text.slice(0, start) + inserted + text.slice(caret).replace(/^ /, ''), caret: start + inserted.length };
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `@Name` as a whole word (so `@Bob` is not found inside `@Bobby`). */
const mentionPattern = (names: string[]) =>
  new RegExp(`(@(?:${names.map(escape).join('|')}))(?![\\p{L}\\p{N}_])`, 'gu');

/** The ids of the picked people whose `@Name` is still in the text (one picked and then deleted is not mentioned). */
export function mentionedIds(text: string, picked: Mentionable[]): string[] {
  const ids = picked.filter((person) => mentionPattern([person.name]).test(text)).map((person) => person.id);
  return [...new Set(ids)];
}

/** The content cut into plain text and `@Name` of the people it mentions, for highlighting. */
export function splitMentions(content: string, mentioned: Mentionable[]): { text: string; mention?: Mentionable }[] {
  const names = mentioned.map((person) => person.name).filter(Boolean).sort((a, b) => b.length - a.length); // longest first
  if (names.length === 0) return [{ text: content }];
  return content
    .split(mentionPattern(names))
    .filter((part) => part !== '')
    .map((part) => {
      const mention = part.startsWith('@') ? mentioned.find((person) => `@${person.name}` === part) : undefined;
      return mention ? { text: part, mention } : { text: part };
    });
}
