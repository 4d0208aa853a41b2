import { useApolloClient, useQuery } from '@apollo/client/react';
import { useEffect } from 'react';
import { graphql } from './gql';
import type { MemberRole } from './gql/graphql';
import { listen } from './live';
import { MEMBERSHIP_CHANGED } from './operations';
import { useConnectionState } from './session';

/*
 * Moderation in the example: who is muted, the room's slow mode, and the
 * OWNER's and ADMINs' actions. Read per open room and read again whenever a
 * membership of that room changes (a MUTED, UNMUTED, BANNED... event).
 */

export const ROOM_MODERATION = graphql(`
  query RoomModeration($roomId: ID!) {
    room(id: $roomId) {
      id
      type
      slowModeSeconds
      myMembership { id role mutedUntil }
      members(limit: 100) { id role mutedUntil user { id displayName } }
    }
  }
`);

export const MUTE_MEMBER = graphql(`
  mutation MuteMember($roomId: ID!, $userId: ID!, $until: DateTime) {
    muteMember(roomId: $roomId, userId: $userId, until: $until) { id mutedUntil }
  }
`);

export const UNMUTE_MEMBER = graphql(`
  mutation UnmuteMember($roomId: ID!, $userId: ID!) {
    unmuteMember(roomId: $roomId, userId: $userId) { id mutedUntil }
  }
`);

export const BAN_MEMBER = graphql(`
  mutation BanMember($roomId: ID!, $userId: ID!) {
    banMember(roomId: $roomId, userId: $userId)
  }
`);

export const SET_SLOW_MODE = graphql(`
  mutation SetSlowMode($roomId: ID!, $seconds: Int!) {
    setSlowMode(roomId: $roomId, seconds: $seconds) { id slowModeSeconds }
  }
`);

/** A mute given without an end reads as this (muted until unmuted). */
export const MUTED_FOREVER = '9999-12-31T23:59:59.999Z';

/** The room's moderation state, kept current by the membership events of the room. */
export function useModeration(roomId: string) {
  const client = useApolloClient();
  const { epoch } = useConnectionState();
  const query = useQuery(ROOM_MODERATION, { variables: { roomId }, fetchPolicy: 'cache-and-network' });
  const { refetch } = query;
  useEffect(() => {
    if (epoch === 0) return;
    if (epoch > 1) void refetch().catch(() => {}); // a reconnect: a mute may have come while offline
    const subscription = listen(client, { query: MEMBERSHIP_CHANGED }, (data) => {
      if (data.membershipChanged.room.id === roomId) void refetch().catch(() => {});
    });
    return () => subscription.unsubscribe();
  }, [client, roomId, epoch, refetch]);
  return query.data?.room ?? null;
}

/** Whether a mute time is still running. */
export function isMuted(mutedUntil: string | null | undefined, now = Date.now()): mutedUntil is string {
  return !!mutedUntil && Date.parse(mutedUntil) > now;
}

/** The API's rule, mirrored for the menu: the OWNER over everyone but themselves, an ADMIN over MEMBERs (GROUP rooms). */
export function mayModerate(mine: MemberRole | undefined, theirs: MemberRole): boolean {
  if (mine === 'OWNER') return theirs !== 'OWNER';
  return mine === 'ADMIN' && theirs === 'MEMBER';
}

/** "until 14:05" or "until unmuted". */
export function mutedText(mutedUntil: string): string {
  return mutedUntil === MUTED_FOREVER ? 'until a moderator unmutes you' : `until ${new Date(mutedUntil).toLocaleTimeString()}`;
}
