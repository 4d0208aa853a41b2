/**
 * Finds every phrase of a query in a text's words in one pass, whatever the
 * number of phrases or their lengths (Aho-Corasick over words): O(words) per
 * text, plus one call per position where a phrase ends. Built once per query.
 */
export class PhraseAutomaton {
  /** Each word of the phrases, numbered; other words reset the automaton. */
  private readonly ids = new Map<string, number>();
  /** Per state: the next state for a word id. State 0 is the start. */
  private readonly next: Map<number, number>[] = [new Map()];
  /** Per state: the state of its longest proper suffix that is a prefix of some phrase. */
  private readonly fail: number[] = [0];
  /** Per state: the length in words of the longest phrase ending there (0: none). */
  private readonly longest: number[] = [0];
  private maxLength = 0;

  constructor(phrases: readonly (readonly string[])[]) {
    for (const phrase of phrases) {
      let state = 0;
      for (const word of phrase) {
        let id = this.ids.get(word);
        if (id === undefined) this.ids.set(word, (id = this.ids.size));
        let to = this.next[state].get(id);
        if (to === undefined) {
          to = this.next.length;
          this.next.push(new Map());
          this.fail.push(0);
          this.longest.push(0);
          this.next[state].set(id, to);
        }
        state = to;
      }
      // The same phrase twice is one state: duplicates cost nothing.
      this.longest[state] = phrase.length;
      this.maxLength = Math.max(this.maxLength, phrase.length);
    }
    // Breadth first, so a state's suffix state (shallower) is complete before it.
    const queue = [...this.next[0].values()];
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head];
      if (this.longest[state] === 0) this.longest[state] = this.longest[this.fail[state]];
      for (const [id, to] of this.next[state]) {
        this.fail[to] = this.stepId(this.fail[state], id);
        queue.push(to);
      }
    }
  }

  /** The length in words of the longest phrase (0 for none): a match never spans more. */
  get longestPhrase(): number {
    return this.maxLength;
  }

  /** The state after `word` from `state` (word by word, for a scan that stops early). */
  step(state: number, word: string): number {
    const id = this.ids.get(word);
    return id === undefined ? 0 : this.stepId(state, id);
  }

  /** The length of the longest phrase ending at `state` (0: none). */
  lengthAt(state: number): number {
    return this.longest[state];
  }

  private stepId(state: number, id: number): number {
    let at = state;
    while (at !== 0 && !this.next[at].has(id)) at = this.fail[at];
    return this.next[at].get(id) ?? 0;
  }

  /**
   * Calls `found(first, last)` for each position where a phrase ends, with the
   * longest phrase ending there (shorter ones ending there lie inside it).
   */
  scan(words: readonly string[], found: (first: number, last: number) => void): void {
    let state = 0;
    for (let i = 0; i < words.length; i++) {
      state = this.step(state, words[i]);
      const length = this.longest[state];
      if (length > 0) found(i - length + 1, i);
    }
  }
}
