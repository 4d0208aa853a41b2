import { useMutation } from '@apollo/client/react';
import { useState } from 'react';
import { BAN_MEMBER, isMuted, mayModerate, MUTE_MEMBER, mutedText, ROOM_MODERATION, SET_SLOW_MODE, UNMUTE_MEMBER, useModeration } from './moderation';
import { ROOMS } from './operations';

/** Slow mode choices, in seconds (0 is off). */
const SLOW_MODES = [0, 10, 30, 60, 300];

/**
 * The room menu of a GROUP room's OWNER and ADMINs: slow mode, and mute,
 * unmute or ban for each member they may moderate. Nothing for anyone else.
 */
export function ModerationMenu({ roomId }: { roomId: string }) {
  const room = useModeration(roomId);
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const refetchQueries = [{ query: ROOM_MODERATION, variables: { roomId } }];
  const [mute] = useMutation(MUTE_MEMBER, { refetchQueries });
  const [unmute] = useMutation(UNMUTE_MEMBER, { refetchQueries });
  const [ban] = useMutation(BAN_MEMBER, { refetchQueries: [...refetchQueries, { query: ROOMS }] });
  const [setSlowMode] = useMutation(SET_SLOW_MODE);
  const mine = room?.myMembership?.role;
  if (!room || room.type !== 'GROUP' || !(mine === 'OWNER' || mine === 'ADMIN')) return null;

  const act = (work: Promise<unknown>) => {
    setError(null);
    work.catch((e: Error) => setError(e.message));
  };
  const others = room.members.filter((m) => m.id !== room.myMembership?.id && mayModerate(mine, m.role));
  return (
    <div className="moderation">
      <button data-testid="moderation-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
        🛡 Moderate
      </button>
      {open && (
        <div className="moderation-panel" data-testid="moderation-panel">
          <label>
            Slow mode{' '}
            <select
              data-testid="slow-mode-select"
              value={room.slowModeSeconds}
              onChange={(e) => act(setSlowMode({ variables: { roomId, seconds: Number(e.target.value) } }))}
            >
              {[...new Set([...SLOW_MODES, room.slowModeSeconds])].map((s) => (
                <option key={s} value={s}>
                  {s === 0 ? 'off' : `one message per ${s} s`}
                </option>
              ))}
            </select>
          </label>
          <ul>
            {others.map((member) => {
              const muted = isMuted(member.mutedUntil);
              const name = member.user.displayName ?? 'someone';
              const target = { roomId, userId: member.user.id };
              return (
                <li key={member.id} data-testid="moderation-member" data-name={name} data-muted={muted}>
                  <span>
                    {name} <small>{member.role.toLowerCase()}</small>
                    {muted && <small data-testid="moderation-muted"> · muted {mutedText(member.mutedUntil as string)}</small>}
                  </span>
                  {muted ? (
                    <button data-testid="unmute" onClick={() => act(unmute({ variables: target }))}>Unmute</button>
                  ) : (
                    <>
                      <button data-testid="mute-hour" onClick={() => act(mute({ variables: { ...target, until: new Date(Date.now() + 3_600_000).toISOString() } }))}>
                        Mute 1 h
                      </button>
                      <button data-testid="mute" onClick={() => act(mute({ variables: target }))}>Mute</button>
                    </>
                  )}
                  <button data-testid="ban" onClick={() => window.confirm(`Ban ${name} from this room?`) && act(ban({ variables: target }))}>Ban</button>
                </li>
              );
            })}
            {others.length === 0 && <li className="empty">Nobody you may moderate.</li>}
          </ul>
          {error && <p className="error" data-testid="moderation-error">{error}</p>}
        </div>
      )}
    </div>
  );
}
