import { useApolloClient, useMutation } from '@apollo/client/react';
import { useEffect, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { AttachButton, MAX_FILES, PendingUploads, useUploads } from './Attachments';
import { addMessage } from './cache';
import { insertMention, mentionedIds, mentionQueryAt, type Mentionable } from './mentions';
import { SEND, SET_TYPING } from './operations';

interface Props {
  roomId: string;
  /** Who may be mentioned: the room's active members but me. */
  members: Mentionable[];
  /** Set in a thread: the message it replies to. */
  parentId?: string;
}

/**
 * Send with a clientId (a retry cannot double a message); typing is announced at
 * most every 3 s. Typing `@` offers the room's members; a picked one is
 * mentioned (`mentionIds`) if their `@Name` is still in the text when it is sent.
 * Files picked with 📎 upload at once (Attachments.tsx) and go with the message.
 */
export function Composer({ roomId, members, parentId }: Props) {
  const client = useApolloClient();
  const testId = parentId ? 'thread-composer' : 'composer'; // the thread's composer is on screen beside the room's
  const input = useRef<HTMLInputElement>(null);
  /** Where the caret goes once the text a mention was picked into is in the input. */
  const pendingCaret = useRef<number | null>(null);
  const [text, setText] = useState('');
  const [caret, setCaret] = useState(0);
  const [picked, setPicked] = useState<Mentionable[]>([]);
  const [alsoInRoom, setAlsoInRoom] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const files = useUploads(roomId);
  const [send] = useMutation(SEND, {
    update: (cache, { data }) => data && addMessage(cache, data.sendMessage),
  });
  const announced = useRef(0);
  const idle = useRef<ReturnType<typeof setTimeout>>(undefined);
  const typingQueue = useRef(Promise.resolve());

  // One at a time, so "stopped typing" cannot overtake "typing".
  const typing = (isTyping: boolean) => {
    announced.current = isTyping ? Date.now() : 0;
    typingQueue.current = typingQueue.current
      .then(() => client.mutate({ mutation: SET_TYPING, variables: { roomId, isTyping } }))
      .then(() => {}, () => {});
  };
  const change = (value: string, at: number) => {
    setText(value);
    setCaret(at);
    if (Date.now() - announced.current > 3000) typing(true);
    clearTimeout(idle.current);
    idle.current = setTimeout(() => typing(false), 4000);
  };
  useEffect(() => () => clearTimeout(idle.current), []);

  const mention = useMentionPicker(text, caret, members);
  const pick = (person: Mentionable) => {
    if (!mention.query) return;
    const next = insertMention(text, mention.query.start, caret, person.name);
    setText(next.text);
    setCaret(next.caret);
    setPicked((all) => [...all.filter((p) => p.id !== person.id), person]);
    // Placed when React has put the new text in the input (the layout effect below), before the next key is handled:
    // placed a frame later, keys typed meanwhile went in before it and the caret jumped back over them.
    pendingCaret.current = next.caret;
  };
  useLayoutEffect(() => {
    if (pendingCaret.current === null) return;
    input.current?.setSelectionRange(pendingCaret.current, pendingCaret.current);
    pendingCaret.current = null;
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (files.busy) return;
    const attached = files.ready;
    // A message needs text: files sent alone are named by their filenames.
    const content = text.trim() || attached.map((u) => u.file.name).join(', ');
    if (!content) return;
    const mentionIds = mentionedIds(content, picked);
    setText('');
    setPicked([]);
    setError(null);
    clearTimeout(idle.current);
    if (announced.current) typing(false);
    const clientId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
    try {
      await send({
        variables: {
          input: {
            roomId,
            content,
            clientId,
            ...(mentionIds.length > 0 && { mentionIds }),
            ...(parentId && { parentId, alsoInRoom }),
            ...(attached.length > 0 && {
              attachmentIds: attached.map((u) => u.attachmentId!),
              type: attached.every((u) => u.file.type.startsWith('image/')) ? 'IMAGE' : 'FILE',
            }),
          },
        },
      });
      files.clear();
    } catch (e) {
      setText(content);
      setPicked(picked);
      setError((e as Error).message);
    }
  };

  return (
    <form className={parentId ? 'composer thread-composer' : 'composer'} onSubmit={submit}>
      {mention.open && <MentionPicker options={mention.options} active={mention.active} onPick={pick} />}
      <PendingUploads uploads={files.uploads} onRemove={files.remove} />
      <div className="composer-row">
        <AttachButton testId={testId} onFiles={files.add} disabled={files.uploads.length >= MAX_FILES} />
        <input
          ref={input}
          data-testid={`${testId}-input`}
          placeholder={parentId ? 'Reply in the thread' : 'Write a message (@ to mention)'}
          value={text}
          onChange={(e) => change(e.target.value, e.target.selectionStart ?? e.target.value.length)}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
          onKeyDown={(e) => mention.onKeyDown(e, pick)}
          autoComplete="off"
        />
        <button type="submit" data-testid={`${testId}-send`} disabled={files.busy}>{parentId ? 'Reply' : 'Send'}</button>
      </div>
      {parentId && (
        <label className="also-in-room">
          <input type="checkbox" data-testid="thread-also-in-room" checked={alsoInRoom} onChange={(e) => setAlsoInRoom(e.target.checked)} />
          Also send to the room
        </label>
      )}
      {error && <p className="error" data-testid={parentId ? 'thread-send-error' : 'send-error'}>{error}</p>}
    </form>
  );
}

/**
 * The picker's state: open while an `@query` is being typed and someone's name
 * starts with it; arrows move, Enter or Tab picks, Escape closes it until the
 * next keystroke.
 */
function useMentionPicker(text: string, caret: number, members: Mentionable[]) {
  const [active, setActive] = useState(0);
  const [dismissedAt, setDismissedAt] = useState<string | null>(null);
  const query = mentionQueryAt(text, caret);
  const options = query ? members.filter((m) => m.name.toLowerCase().startsWith(query.query.toLowerCase())) : [];
  const open = options.length > 0 && dismissedAt !== text;
  const current = Math.min(active, options.length - 1);
  useEffect(() => setActive(0), [query?.query]);

  const onKeyDown = (event: KeyboardEvent, pick: (person: Mentionable) => void) => {
    if (!open) return;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      const step = event.key === 'ArrowDown' ? 1 : -1;
      setActive((current + step + options.length) % options.length);
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      pick(options[current]);
    } else if (event.key === 'Escape') {
      setDismissedAt(text);
    } else {
      return;
    }
    event.preventDefault(); // Enter picks instead of sending, Tab stays in the input
  };
  return { query, options, open, active: current, onKeyDown };
}

function MentionPicker({ options, active, onPick }: { options: Mentionable[]; active: number; onPick: (person: Mentionable) => void }) {
  return (
    <ul className="mention-picker" data-testid="mention-picker" role="listbox">
      {options.map((person, i) => (
        <li key={person.id} role="option" aria-selected={i === active}>
          <button
            type="button"
            data-testid="mention-option"
            data-user-id={person.id}
            className={i === active ? 'active' : undefined}
            onMouseDown={(e) => e.preventDefault()} // keep the focus (and the caret) in the input
            onClick={() => onPick(person)}
          >
            @{person.name}
          </button>
        </li>
      ))}
    </ul>
  );
}
