import { randomUUID } from 'node:crypto';
import { makeUser, ok, signIn, type TestUser } from './client';

/** Minimal valid rows, made through the API as a client would. */

export async function groupRoom(url: string, owner: TestUser, members: TestUser[] = [], name = 'Team'): Promise<string> {
  for (const m of members) await signIn(url, m);
  const data = await ok<{ createGroupChat: { id: string } }>(
    url,
    `mutation($input: CreateGroupChatInput!) { createGroupChat(input: $input) { id } }`,
    { input: { name, memberIds: members.map((m) => m.id) } },
    owner.token,
  );
  return data.createGroupChat.id;
}

export async function directRoom(url: string, a: TestUser, b: TestUser): Promise<string> {
  const data = await ok<{ createDirectChat: { id: string } }>(
    url,
    `mutation($userId: ID!) { createDirectChat(userId: $userId) { id } }`,
    { userId: b.id },
    a.token,
  );
  return data.createDirectChat.id;
}

export interface SentMessage {
  id: string;
  seq: number;
  content: string | null;
}

export async function send(url: string, user: TestUser, roomId: string, content = 'hello', extra: Record<string, unknown> = {}): Promise<SentMessage> {
  const data = await ok<{ sendMessage: SentMessage }>(
    url,
    `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq content } }`,
    { input: { roomId, content, ...extra } },
    user.token,
  );
  return data.sendMessage;
}

export async function promote(url: string, owner: TestUser, roomId: string, user: TestUser, role: 'ADMIN' | 'MEMBER' | 'OWNER'): Promise<void> {
  await ok(url, `mutation($r: ID!, $u: ID!, $role: MemberRole!) { updateMemberRole(roomId: $r, userId: $u, role: $role) { id } }`, { r: roomId, u: user.id, role }, owner.token);
}

/** A room with an OWNER, an ADMIN and a MEMBER of one company, plus outsiders. */
export async function staffedRoom(url: string) {
  const companyId = randomUUID();
  const owner = await signIn(url, await makeUser({ companyId, name: 'Owner' }));
  const admin = await signIn(url, await makeUser({ companyId, name: 'Admin' }));
  const member = await signIn(url, await makeUser({ companyId, name: 'Member' }));
  const stranger = await signIn(url, await makeUser({ companyId, name: 'Stranger' }));
  const outsider = await signIn(url, await makeUser({ companyId: randomUUID(), name: 'Outsider' }));
  const roomId = await groupRoom(url, owner, [admin, member]);
  await promote(url, owner, roomId, admin, 'ADMIN');
  return { companyId, owner, admin, member, stranger, outsider, roomId };
}
