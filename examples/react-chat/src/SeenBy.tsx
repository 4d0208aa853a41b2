import { useApolloClient, useQuery } from '@apollo/client/react';
import { useEffect, useRef } from 'react';
import { listen } from './live';
import { READ_RECEIPT, SEEN_BY, type ChatMessage } from './operations';
import { useChat, useConnectionState } from './session';

/**
 * "Seen by Bob, Carol" under the newest message: `readBy`/`readCount` of that
 * message, read again whenever a readReceipt says someone (not its sender) has
 * now read up to it. It is read again from the server rather than patched
 * here: a receipt can overtake the answer to a read still in flight, and the
 * server's answer after the receipt is the one that counts.
 */
export function SeenBy({ roomId, message }: { roomId: string; message: ChatMessage }) {
  const client = useApolloClient();
  const { me } = useChat();
  const { epoch } = useConnectionState();
  const { data } = useQuery(SEEN_BY, { variables: { id: message.id }, fetchPolicy: 'cache-and-network' });
  const newest = useRef(message);
  newest.current = message;

  useEffect(() => {
    if (epoch === 0) return;
    const reread = () =>
      client
        // No deduplication: an identical read in flight may have started before the receipt's read.
        .query({ query: SEEN_BY, variables: { id: newest.current.id }, fetchPolicy: 'network-only', context: { queryDeduplication: false } })
        .catch(() => {});
    if (epoch > 1) void reread(); // a reconnect: receipts sent while offline were missed
    const subscription = listen(client, { query: READ_RECEIPT, variables: { roomId } }, ({ readReceipt }) => {
      const { sender, createdAt } = newest.current;
      if (readReceipt.user.id === sender?.id || Date.parse(readReceipt.lastReadAt) < Date.parse(createdAt)) return; // not a reader of it
      void reread();
    });
    return () => subscription.unsubscribe();
  }, [client, roomId, epoch]);

  const seen = data?.message;
  // The sender is never a reader; I am one of them for others' messages, but need not be told so.
  const others = (seen?.readBy ?? []).filter((user) => user.id !== me.userId);
  const beyond = seen ? seen.readCount - seen.readBy.length : 0; // readers past readBy's limit
  if (others.length === 0 && beyond <= 0) return <p className="seen-by" data-testid="seen-by" data-count={seen?.readCount ?? 0} />;
  const names = others.map((user) => user.displayName ?? 'someone').join(', ');
  return (
    <p className="seen-by" data-testid="seen-by" data-count={seen?.readCount ?? 0}>
      ✓ Seen by {names}
      {beyond > 0 && `${names ? ' and ' : ''}${beyond} other${beyond === 1 ? '' : 's'}`}
    </p>
  );
}
