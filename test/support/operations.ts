/**
 * The operations many tests send, written once. A test that needs other
 * fields of the answer writes its own document beside the behaviour it pins.
 */

export const EDIT = `mutation($id: ID!, $c: String!) { editMessage(id: $id, content: $c) { id } }`;
export const DELETE = `mutation($id: ID!) { deleteMessage(id: $id) { id } }`;
export const ADD_REACTION = `mutation($id: ID!, $r: String!) { addReaction(messageId: $id, reaction: $r) { id } }`;
export const REMOVE_REACTION = `mutation($id: ID!, $r: String!) { removeReaction(messageId: $id, reaction: $r) { id } }`;
export const ADD_MEMBERS = `mutation($r: ID!, $u: [ID!]!) { addMembers(roomId: $r, userIds: $u) { id } }`;
export const REMOVE_MEMBER = `mutation($r: ID!, $u: ID!) { removeMember(roomId: $r, userId: $u) }`;
export const UPDATE_ROLE = `mutation($r: ID!, $u: ID!, $role: MemberRole!) { updateMemberRole(roomId: $r, userId: $u, role: $role) { id } }`;
export const SET_TYPING = `mutation($r: ID!, $t: Boolean) { setTyping(roomId: $r, isTyping: $t) }`;
