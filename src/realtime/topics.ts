import type { ChatEvent } from '../chat/events';

/**
 * Where an event travels: the topic of its room, and, for a membership change,
 * also the topic of the user it is about (the all-rooms streams of that user
 * learn of rooms they enter and leave there). A server subscribes only to the
 * topics its own subscribers watch, so an event costs what its audience costs.
 * In Redis each topic is a sharded pub/sub channel: topics spread over a
 * cluster's shards by their hash slot.
 */
export const roomTopic = (roomId: string): string => `chat:room:${roomId}`;
export const userTopic = (userId: string): string => `chat:user:${userId}`;
/** Presence of a room's members: a topic of its own, so the room's message streams never hear it. */
export const presenceTopic = (roomId: string): string => `chat:presence:${roomId}`;

export function topicsOf(event: ChatEvent): string[] {
  if (event.kind === 'presence') return [presenceTopic(event.roomId)];
  return event.kind === 'membershipChanged' ? [roomTopic(event.roomId), userTopic(event.userId)] : [roomTopic(event.roomId)];
}
