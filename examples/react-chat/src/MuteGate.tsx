import { useEffect, useState, type ReactNode } from 'react';
import { isMuted, mutedText, useModeration } from './moderation';

/**
 * The composer, or, while I am muted in the room, the composer disabled with
 * the reason (the API refuses my messages, reactions and typing until then).
 * In slow mode a MEMBER is told the pace. `testId` names the composer it
 * stands in for (the room's, or a thread's).
 */
export function MuteGate({ roomId, testId = 'composer', children }: { roomId: string; testId?: string; children: ReactNode }) {
  const room = useModeration(roomId);
  const mutedUntil = room?.myMembership?.mutedUntil;
  const muted = isMuted(mutedUntil);
  useRerenderAt(muted ? mutedUntil : null);
  const slow = room && room.slowModeSeconds > 0 && room.myMembership?.role === 'MEMBER' ? room.slowModeSeconds : 0;

  if (muted) {
    return (
      <form className="composer muted" onSubmit={(e) => e.preventDefault()}>
        <div className="composer-row">
          <input data-testid={`${testId}-input`} disabled placeholder="You are muted" />
          <button type="submit" data-testid={`${testId}-send`} disabled>
            Send
          </button>
        </div>
        <p className="notice" data-testid={`${testId}-muted`}>
          A moderator muted you in this room {mutedText(mutedUntil)}: you can read, but not write or react.
        </p>
      </form>
    );
  }
  return (
    <>
      {slow > 0 && (
        <p className="notice" data-testid="slow-mode-notice">
          Slow mode: one message per {slow} s.
        </p>
      )}
      {children}
    </>
  );
}

/** Renders again when `at` (an ISO time) passes, so an ended mute gives the composer back. */
function useRerenderAt(at: string | null | undefined): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!at) return;
    const wait = Date.parse(at) - Date.now();
    if (wait <= 0 || wait > 2 ** 31 - 1) return;
    const timer = setTimeout(() => setTick((n) => n + 1), wait + 50);
    return () => clearTimeout(timer);
  }, [at]);
}
