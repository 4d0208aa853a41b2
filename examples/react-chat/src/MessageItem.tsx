import { useMutation } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { MessageAttachments } from './Attachments';
import { syncPins } from './cache';
import { splitMentions } from './mentions';
import { ADD_REACTION, DELETE, EDIT, PIN, REMOVE_REACTION, UNPIN, type ChatMessage } from './operations';
import { useChat } from './session';

const REACTIONS = ['👍', '❤️', '😂'];

const timeOf = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

interface Props {
  message: ChatMessage;
  /** Where it is shown: the room's history (test id "message"), or a thread panel. */
  variant?: 'message' | 'thread-root' | 'thread-reply';
  found?: boolean;
  /** Whether I may pin in this room (see canPin); replies are never pinned. */
  canPin?: boolean;
  /** Opens the thread of a message (its own, or for a reply, its root's); absent inside a thread. */
  onOpenThread?: (rootId: string) => void;
}

export function MessageItem({ message, variant = 'message', found = false, canPin = false, onOpenThread }: Props) {
  const { me } = useChat();
  const mine = message.sender?.id === me.userId;
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState('');
  const [showEdits, setShowEdits] = useState(false);
  const [edit] = useMutation(EDIT);
  const [remove] = useMutation(DELETE);
  const [addReaction] = useMutation(ADD_REACTION);
  const [removeReaction] = useMutation(REMOVE_REACTION);
  // The pins list does not hold the message by a query of its own: move it in or out here.
  const [pin] = useMutation(PIN, { update: (cache, { data }) => data && syncPins(cache, data.pinMessage) });
  const [unpin] = useMutation(UNPIN, { update: (cache, { data }) => data && syncPins(cache, data.unpinMessage) });
  // Other mutation results update Message:<id> in the cache; nothing else to do.

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const content = draft.trim();
    if (content && content !== message.content) {
      // Keep the mentions whose @Name is still there (without mentionIds the API would keep them all).
      const mentionIds = message.mentions.filter((user) => content.includes(`@${user.displayName}`)).map((user) => user.id);
      await edit({ variables: { id: message.id, content, mentionIds } });
    }
    setEditing(false);
  };
  const react = (reaction: string, mineAlready: boolean) =>
    void (mineAlready ? removeReaction : addReaction)({ variables: { id: message.id, reaction } });

  const isReply = !!message.parent;
  const reactions = [...REACTIONS, ...message.reactions.map((r) => r.reaction).filter((r) => !REACTIONS.includes(r))];
  return (
    <li
      className={`message${mine ? ' mine' : ''}${message.sender ? '' : ' system'}${found ? ' found' : ''}${message.pinnedAt ? ' pinned' : ''}`}
      data-testid={variant}
      data-message-id={message.id}
      data-seq={message.seq}
      data-found={found || undefined}
    >
      <div className="meta">
        <b>{message.sender?.displayName ?? 'system'}</b> <time>{timeOf(message.createdAt)}</time>{' '}
        {message.isEdited && (
          <button className="link" data-testid="message-edited" aria-expanded={showEdits} onClick={() => setShowEdits(!showEdits)} title="Show earlier versions">
            (edited)
          </button>
        )}
        {message.pinnedAt && <span className="pin-mark" data-testid="message-pinned" title={`Pinned by ${message.pinnedBy?.displayName ?? 'someone'}`}>📌 pinned</span>}
        {isReply && variant === 'message' && onOpenThread && message.parent && (
          <button className="link" data-testid="message-in-thread" onClick={() => onOpenThread(message.parent!.id)}>↪ in a thread</button>
        )}
      </div>
      {editing ? (
        <form className="edit" onSubmit={save}>
          <input data-testid="edit-input" value={draft} onChange={(e) => setDraft(e.target.value)} autoFocus />
          <button type="submit" data-testid="edit-save">Save</button>
          <button type="button" onClick={() => setEditing(false)}>Cancel</button>
        </form>
      ) : (
        <p className="content" data-testid="message-content">
          {message.isDeleted ? <i>Message deleted</i> : <MessageText content={message.content ?? ''} mentions={message.mentions} />}
        </p>
      )}
      {!message.isDeleted && <MessageAttachments message={message} />}
      {showEdits && message.isEdited && <EditHistory message={message} />}
      {!isReply && message.replyCount > 0 && onOpenThread && <ThreadSummary message={message} onOpen={() => onOpenThread(message.id)} />}
      {!message.isDeleted && (
        <div className="actions">
          {reactions.map((reaction) => {
            const summary = message.reactions.find((r) => r.reaction === reaction);
            return (
              <button
                key={reaction}
                data-testid={`reaction-${reaction}`}
                data-count={summary?.count ?? 0}
                className={summary?.reactedByMe ? 'reaction on' : 'reaction'}
                onClick={() => react(reaction, summary?.reactedByMe ?? false)}
              >
                {reaction} {summary ? summary.count : ''}
              </button>
            );
          })}
          {!isReply && onOpenThread && (
            <button data-testid="message-reply" onClick={() => onOpenThread(message.id)}>Reply in thread</button>
          )}
          {!isReply && canPin && (
            <button
              data-testid={message.pinnedAt ? 'message-unpin' : 'message-pin'}
              onClick={() => void (message.pinnedAt ? unpin : pin)({ variables: { id: message.id } })}
            >
              {message.pinnedAt ? 'Unpin' : 'Pin'}
            </button>
          )}
          {mine && !editing && (
            <>
              <button data-testid="message-edit" onClick={() => (setDraft(message.content ?? ''), setEditing(true))}>Edit</button>
              <button data-testid="message-delete" onClick={() => void remove({ variables: { id: message.id } })}>Delete</button>
            </>
          )}
        </div>
      )}
    </li>
  );
}

/** The content with the `@Name` of each person it mentions highlighted (more so when it is me). */
export function MessageText({ content, mentions }: { content: string; mentions: ChatMessage['mentions'] }) {
  const { me } = useChat();
  const people = mentions.map((user) => ({ id: user.id, name: user.displayName ?? '' }));
  return (
    <>
      {splitMentions(content, people).map((part, i) =>
        part.mention ? (
          <span key={i} className={part.mention.id === me.userId ? 'mention me' : 'mention'} data-testid="mention" data-user-id={part.mention.id}>
            {part.text}
          </span>
        ) : (
          part.text
        ),
      )}
    </>
  );
}

/** The earlier versions of an edited message, oldest first, each with when it was replaced. */
function EditHistory({ message }: { message: ChatMessage }) {
  return (
    <ol className="edit-history" data-testid="edit-history">
      {message.edits.map((version, i) => (
        <li key={i} data-testid="edit-version">
          <span data-testid="edit-version-content">{version.content}</span> <time>replaced {timeOf(version.replacedAt)}</time>
        </li>
      ))}
    </ol>
  );
}

/** "3 replies · Bob, Carol · last 10:42": opens the thread. */
function ThreadSummary({ message, onOpen }: { message: ChatMessage; onOpen: () => void }) {
  const who = message.threadParticipants.map((user) => user.displayName ?? 'someone').join(', ');
  return (
    <button className="thread-summary" data-testid="thread-summary" data-count={message.replyCount} onClick={onOpen}>
      {message.replyCount} {message.replyCount === 1 ? 'reply' : 'replies'}
      {who && ` · ${who}`}
      {message.lastReplyAt && ` · last ${timeOf(message.lastReplyAt)}`}
    </button>
  );
}
