import fc from 'fast-check';
import type { TestUser } from '../support/client';

/*
 * The operations the fuzz run sends: generated from the schema's queries,
 * mutations and subscriptions, with arguments drawn from the fixture's real ids
 * and from mutations of them (wrong JSON types, nulls, huge strings, odd
 * unicode, negative/huge/float limits, random and malformed ids, unknown enum
 * values), passed as variables or inline literals, plus broken documents and
 * malformed HTTP request shapes.
 */

/** The rows and tokens the generators draw real values from. */
export interface Fixture {
  users: { owner: TestUser; admin: TestUser; member: TestUser; stranger: TestUser; outsider: TestUser };
  roomIds: string[];
  messageIds: string[];
  userIds: string[];
  /** Cursors the server gave (a changes cursor, message versions). */
  cursors: string[];
  badTokens: { label: string; token: string }[];
}

/** The longest generated string: HTTP bodies may be bigger than WebSocket frames. */
const HUGE_HTTP = 100_000;
const HUGE_WS = 40_000;

/* ------------------------------------------------------------ value model */

/** An argument left out entirely (an absent variable / input field / argument). */
export const MISSING = Symbol('missing');

/** An enum value: a bare name inline, a string in variables. */
export class EnumValue {
  constructor(readonly name: string) {}
  toJSON(): string {
    return this.name;
  }
}

const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/**
 * The value as a GraphQL literal (wrong types included: that is the point).
 * Iterative, so values nested thousands deep print without a stack overflow.
 */
export function literal(root: unknown): string {
  type Item = { text: string } | { value: unknown };
  const out: string[] = [];
  const stack: Item[] = [{ value: root }];
  while (stack.length > 0) {
    const item = stack.pop() as Item;
    if ('text' in item) {
      out.push(item.text);
      continue;
    }
    const v = item.value;
    if (v instanceof EnumValue) out.push(NAME.test(v.name) ? v.name : JSON.stringify(v.name));
    else if (v === null || v === undefined || v === MISSING) out.push('null');
    else if (typeof v === 'string') out.push(JSON.stringify(v));
    else if (typeof v === 'number') out.push(Number.isFinite(v) ? String(v) : '0');
    else if (typeof v === 'boolean') out.push(String(v));
    else if (typeof v === 'object') {
      const isList = Array.isArray(v);
      const entries = isList
        ? (v as unknown[]).map((x): [string | null, unknown] => [null, x])
        : Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== MISSING);
      stack.push({ text: isList ? ']' : '}' });
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, x] = entries[i];
        stack.push({ value: x });
        if (key !== null) stack.push({ text: `${NAME.test(key) ? key : JSON.stringify(key)}: ` });
        if (i > 0) stack.push({ text: ', ' });
      }
      stack.push({ text: isList ? '[' : '{' });
    } else out.push('null');
  }
  return out.join('');
}

/** A value short enough to print: long strings summarised. */
export function compact(v: unknown, depth = 0): unknown {
  if (v === MISSING) return '<missing>';
  if (v instanceof EnumValue) return `<enum ${v.name}>`;
  if (typeof v === 'string') {
    if (v.length <= 120) return v;
    const units = [...new Set([...v.slice(0, 64)])].slice(0, 4).join('');
    return `<string of ${v.length} UTF-16 units, made of ${JSON.stringify(units)}, starts ${JSON.stringify(v.slice(0, 40))}>`;
  }
  if (depth > 6) return '<deeper>';
  if (Array.isArray(v)) {
    const head = v.slice(0, 8).map((x) => compact(x, depth + 1));
    return v.length > 8 ? [...head, `<+${v.length - 8} more>`] : head;
  }
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).slice(0, 12).map(([k, x]) => [k.length > 60 ? `${k.slice(0, 60)}…` : k, compact(x, depth + 1)]));
  }
  return v;
}

/* ------------------------------------------------------------ operations */

export type OpKind = 'query' | 'mutation' | 'subscription';

interface ArgSpec {
  name: string;
  /** The declared variable type. */
  type: string;
  valid: fc.Arbitrary<unknown>;
  bad: fc.Arbitrary<unknown>;
  optional?: boolean;
  /** A nested field of the selection that takes this argument (Room.messages, Room.members). */
  at?: 'messages' | 'members';
}

interface FieldSpec {
  kind: OpKind;
  field: string;
  args: ArgSpec[];
  /** Selection set; `@@messages@@` / `@@members@@` are replaced by the nested arguments. */
  selection: string;
}

interface ArgChoice {
  value: unknown;
  how: 'var' | 'inline' | 'omit';
  declared: string;
}

/** How the HTTP request is shaped. */
export type Wire =
  | 'json'
  | 'get'
  | 'text-plain'
  | 'query-not-string'
  | 'variables-not-object'
  | 'bad-operation-name'
  | 'bad-extensions'
  | 'invalid-json'
  | 'batch'
  | 'empty-body';

/** The HTTP wire shapes other than plain JSON, each of which FUZZ_SKIP may leave out. */
export const ODD_WIRES: Wire[] = ['get', 'text-plain', 'query-not-string', 'variables-not-object', 'bad-operation-name', 'bad-extensions', 'invalid-json', 'batch', 'empty-body'];

export interface Op {
  kind: OpKind;
  field: string;
  query: string;
  variables: Record<string, unknown>;
  operationName?: string;
  actor: string;
  token: string | null;
  /** How the HTTP request is shaped (HTTP only). */
  wire: Wire;
  label: string;
}

/** An operation before it is given an actor and a wire shape. */
type OpShape = Omit<Op, 'actor' | 'token' | 'wire'>;

/** The operation in one line of JSON, long texts summarised (for failure reports). */
export function describeOp(op: Op): string {
  return JSON.stringify({
    label: op.label,
    wire: op.wire,
    actor: op.actor,
    query: op.query.length > 600 ? `${op.query.slice(0, 600)}… <${op.query.length} chars>` : op.query,
    variables: compact(op.variables),
    ...(op.operationName !== undefined && { operationName: compact(op.operationName) }),
  });
}

// fast-check prints counterexamples with this, instead of dumping megabyte strings.
function withToString<T extends object>(value: T, toString: () => string): T {
  Object.defineProperty(value, fc.toStringMethod, { value: toString, enumerable: false });
  return value;
}

function buildOp(spec: FieldSpec, choices: ArgChoice[], label: string): OpShape {
  const variables: Record<string, unknown> = {};
  const declarations: string[] = [];
  const rendered: Record<string, string[]> = { root: [], messages: [], members: [] };
  spec.args.forEach((arg, i) => {
    const c = choices[i];
    if (c.how === 'omit' || (c.how === 'inline' && c.value === MISSING)) return;
    let text: string;
    if (c.how === 'inline') text = literal(c.value);
    else {
      const name = `$${arg.at ? `${arg.at}_` : ''}${arg.name}`;
      declarations.push(`${name}: ${c.declared}`);
      if (c.value !== MISSING) variables[name.slice(1)] = c.value;
      text = name;
    }
    rendered[arg.at ?? 'root'].push(`${arg.name}: ${text}`);
  });
  const args = (list: string[]) => (list.length ? `(${list.join(', ')})` : '');
  const selection = spec.selection.replace('@@messages@@', args(rendered.messages)).replace('@@members@@', args(rendered.members));
  const header = declarations.length ? `${spec.kind} Fuzz(${declarations.join(', ')})` : `${spec.kind} Fuzz`;
  return {
    kind: spec.kind,
    field: spec.field,
    query: `${header} { ${spec.field}${args(rendered.root)} ${selection} }`,
    variables,
    label,
  };
}

/* ------------------------------------------------------------ argument values */

export const ODD_PIECES = [
  '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\u0000', '\u0001', '\u001F', '\u007F', '\u202E', '\u202D', '\u200F', '\u200E',
  '\u200B', '\u200D', '\uFEFF', '\u2028', '\u2029', '\u0085', '\u00A0', '\u3000', '\uFFFD', '\uFFFE', '\uFFFF', '\u{10FFFF}',
  '\u{1F44D}', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇺🇳', 'e\u0301', 'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇', '﷽', 'ß', 'İ', 'ǅ', '\t', '\n', '\r', ' ', '\\', '"', "'",
  '%s', '${x}', '<script>', '--', ';', '\u0600', '\u061C', '\u{E0001}', '\u{1D11E}',
];

/** A valid and a mutated arbitrary for one argument. */
interface ValuePair {
  valid: fc.Arbitrary<unknown>;
  bad: fc.Arbitrary<unknown>;
}

/** Valid and mutated values for every argument type, drawn from the fixture's ids; strings up to `maxHuge` long. */
function argumentValues(fx: Fixture, maxHuge: number) {
  const allIds = [...fx.roomIds, ...fx.messageIds, ...fx.userIds];

  const oddUnicode = fc.oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
    fc.array(fc.constantFrom(...ODD_PIECES), { minLength: 1, maxLength: 30 }).map((a) => a.join('')),
  );
  const huge = fc
    .tuple(fc.integer({ min: 4001, max: maxHuge }), fc.constantFrom('x', 'é', '😀', ' ', '\u0000', '\u202E', 'ab ', '\uD800', '👨‍👩‍👧‍👦', '\n'))
    .map(([n, unit]) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n));
  const boundary = fc
    .tuple(fc.constantFrom(1, 31, 32, 33, 99, 100, 101, 199, 200, 201, 3999, 4000, 4001, 16_384), fc.constantFrom('x', '😀', 'é', ' ', 'a b', '\u0000'))
    .map(([n, unit]) => unit.repeat(n));
  const blank = fc.constantFrom('', ' ', '\n\t ', '\u200B', '\u00A0', '\u3000', '\uFEFF', '\u0000');
  const wrongType: fc.Arbitrary<unknown> = fc.oneof(
    fc.integer(),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constant(null),
    fc.constant(MISSING),
    fc.constant({}),
    fc.constant([]),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
    fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constant(null)), { maxLength: 4 }),
  );
  const badString = fc.oneof(
    { weight: 3, arbitrary: oddUnicode },
    { weight: 2, arbitrary: boundary },
    { weight: 1, arbitrary: huge },
    { weight: 2, arbitrary: blank },
    { weight: 3, arbitrary: wrongType },
  );

  const malformedId = fc.oneof(
    fc.constantFrom(
      '', ' ', 'not-a-uuid', '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', "'; DROP TABLE messages; --",
      '1', '-1', '0x10', 'null', 'undefined', 'NaN', '{}', '[]', '%', '../../etc/passwd', '00000000-0000-0000-0000-00000000000g',
      '00000000000000000000000000000000', '{00000000-0000-0000-0000-000000000000}', 'urn:uuid:00000000-0000-0000-0000-000000000000',
    ),
    fc.constantFrom(...allIds).chain((v) =>
      fc.constantFrom(v.toUpperCase(), ` ${v}`, `${v} `, v.replace(/-/g, ''), `{${v}}`, `${v}x`, v.slice(0, -1), `${v}\u0000`, `${v},${v}`, `urn:uuid:${v}`),
    ),
    fc.uuid().map((u) => u.toUpperCase()),
    oddUnicode,
    fc.string({ maxLength: 40 }),
    fc.integer().map(String),
  );
  const id = (pool: string[]): ValuePair => ({
    valid: fc.constantFrom(...pool),
    bad: fc.oneof(
      { weight: 3, arbitrary: fc.uuid() },
      { weight: 4, arbitrary: malformedId },
      { weight: 2, arbitrary: fc.constantFrom(...allIds) },
      { weight: 2, arbitrary: wrongType },
      { weight: 1, arbitrary: huge },
    ),
  });
  const idList = (pool: string[]): ValuePair => ({
    valid: fc.subarray(pool),
    bad: fc.oneof(
      fc.array(fc.oneof(fc.constantFrom(...pool), fc.uuid(), malformedId, fc.constant(null), fc.integer()), { maxLength: 12 }),
      fc.array(fc.uuid(), { minLength: 100, maxLength: 1200 }),
      fc.array(fc.constantFrom(...pool), { minLength: 50, maxLength: 500 }),
      fc.constantFrom(...pool), // a single id where a list is expected (GraphQL coerces it)
      malformedId,
      wrongType,
    ),
  });

  const nonBlank = (arb: fc.Arbitrary<string>) => arb.filter((s) => s.trim() !== '');
  const content: ValuePair = {
    valid: fc.oneof(
      fc.constantFrom('hello', 'k', '😀', 'line\nbreak', '<b>bold</b>', 'ﷺ مرحبا'),
      nonBlank(fc.string({ minLength: 1, maxLength: 60 })),
      nonBlank(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 })),
    ),
    bad: badString,
  };
  const reaction: ValuePair = {
    valid: fc.constantFrom('👍', '❤️', ':party_parrot:', '🎉', 'r'.repeat(32), ':+1:', '👨‍👩‍👧‍👦'),
    bad: fc.oneof(badString, fc.constantFrom('thumbs up', 'a'.repeat(33), '👍 ', '\t👍', '😀'.repeat(33))),
  };
  const groupName: ValuePair = {
    valid: fc.oneof(fc.constantFrom('Team', 'Fuzz room', '🚀 launch'), nonBlank(fc.string({ minLength: 1, maxLength: 30 }))),
    bad: badString,
  };
  const clientId: ValuePair = {
    valid: fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 20 }), fc.constant(null), fc.constant(MISSING)),
    bad: badString,
  };
  const deep = fc.tuple(fc.integer({ min: 10, max: 4000 }), fc.boolean()).map(([depth, asObject]) => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = asObject ? { a: v } : [v];
    return asObject ? v : { list: v };
  });
  const metadata: ValuePair = {
    valid: fc.oneof(fc.constant(MISSING), fc.constant(null), fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 })),
    bad: fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      deep,
      huge.map((blob) => ({ blob })),
      oddUnicode.map((s) => ({ [s]: s })),
      fc.constantFrom<unknown>(
        { '\u0000': '\u0000' },
        { text: 'nul \u0000 inside' },
        { lone: '\uD800' },
        JSON.parse('{"__proto__": {"polluted": true}}'),
        { constructor: { prototype: { polluted: true } } },
        { n: 1e308, m: -1e308, tiny: 5e-324 },
        { big: 123456789012345678901234567890 },
        { ['a'.repeat(5000)]: 1 },
      ),
      wrongType,
    ),
  };

  const int = (lo: number, hi: number): ValuePair => ({
    valid: fc.integer({ min: lo, max: hi }),
    bad: fc.oneof(
      fc.constantFrom(0, -1, -50, hi + 1, 1000, 2147483647, 2147483648, -2147483648, -2147483649, 9007199254740991, 1e21, 1.5, 0.1, -0.5, 1e-7, -0),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom('10', 'ten', ' 5', '0x10', '1e3', ''),
      wrongType,
    ),
  });
  const bool: ValuePair = {
    valid: fc.boolean(),
    bad: fc.oneof(fc.constantFrom<unknown>('true', 1, 0, 'false', '', 'yes', 'TRUE'), wrongType),
  };
  const enumOf = (valid: string[], bad: string[]): ValuePair => ({
    valid: fc.constantFrom(...(valid.length ? valid : ['TEXT'])).map((n) => new EnumValue(n)),
    bad: fc.oneof(
      fc.constantFrom(...bad, 'VIDEO', 'text', 'Text', '', 'null', 'true', '__typename').map((n) => new EnumValue(n)),
      fc.string({ maxLength: 12 }).map((n) => new EnumValue(n)),
      oddUnicode.map((n) => new EnumValue(n)),
      wrongType,
    ),
  });
  const iso = (d: Date) => d.toISOString();
  const dateTime: ValuePair = {
    valid: fc.oneof(fc.constant(null), fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map(iso)),
    bad: fc.oneof(
      fc.date({ noInvalidDate: true }).map(iso),
      fc.constantFrom(
        'not a date', '2026-02-31T00:00:00Z', '2026-13-01T00:00:00Z', '0000-01-01T00:00:00Z', '-271821-04-20T00:00:00.000Z',
        '+275760-09-13T00:00:00.000Z', '9999-12-31T23:59:59.999Z', '2020-01-01', '2020-01-01T00:00:00', '2020-01-01T25:00:00Z',
        '1970-01-01T00:00:00+25:00', '2020-01-01T00:00:00.123456789Z', 'now', 'infinity', '-infinity', 'epoch', 'today', 'allballs',
        '4714-11-24T00:00:00Z', '1900-01-01T00:00:00-23:59', '2020-06-30T23:59:60Z',
      ),
      fc.integer(),
      fc.constantFrom(8.64e15, -8.64e15, 8.64e15 + 1, 1e20, -1e20),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      wrongType,
    ),
  };
  const inputObject = (fields: Record<string, ValuePair>): ValuePair => ({
    valid: fc.record(Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, f.valid])) as Record<string, fc.Arbitrary<unknown>>),
    bad: fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .tuple(
            fc.record(
              Object.fromEntries(
                Object.entries(fields).map(([k, f]) => [
                  k,
                  fc.oneof({ weight: 3, arbitrary: f.valid }, { weight: 2, arbitrary: f.bad }, { weight: 1, arbitrary: fc.constant(MISSING) }),
                ]),
              ) as Record<string, fc.Arbitrary<unknown>>,
            ),
            fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), wrongType, { maxKeys: 2 }), { freq: 4 }),
          )
          .map(([r, extra]) => ({ ...r, ...(extra ?? {}) })),
      },
      { weight: 1, arbitrary: wrongType },
      { weight: 1, arbitrary: oddUnicode },
    ),
  });

  const cursor: ValuePair = {
    valid: fc.oneof(fc.constantFrom(...fx.cursors), fc.constant(null), fc.constant(MISSING)),
    bad: fc.oneof(
      fc.constantFrom(...fx.cursors).chain((c) =>
        fc.constantFrom(c.toUpperCase(), `${c}x`, c.slice(0, -1), c.replace('.', ''), `0${c}`, `${'f'.repeat(16)}${c.slice(16)}`, `${c.slice(0, 17)}${'A'.repeat(16)}`),
      ),
      fc.constantFrom('', ' ', '0', '-1', '9223372036854775808', 'ffffffffffffffff.AAAAAAAAAAAAAAAA', '0000000000000000.', '.'),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n) => `${n.toString(16).padStart(16, '0')}.AAAAAAAAAAAAAAAA`),
      badString,
    ),
  };
  const searchQuery: ValuePair = {
    valid: fc.oneof(
      fc.constantFrom('hello', '"just us"', 'welcome -hi', 'hey or hi', '東京', '-', '"', '*', 'ﷺ مرحبا', 'a'.repeat(200)),
      nonBlank(fc.string({ minLength: 1, maxLength: 60 })),
      nonBlank(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 })),
    ),
    bad: badString,
  };

  return { oddUnicode, id, idList, content, reaction, groupName, clientId, metadata, int, bool, enumOf, dateTime, inputObject, cursor, searchQuery };
}

type ArgumentValues = ReturnType<typeof argumentValues>;

/* ------------------------------------------------------------ the schema's fields */

const MESSAGE = `{ id seq type content metadata clientId isDeleted isEdited editedAt deletedAt createdAt sender { id displayName } room { id } reactions { reaction count reactedByMe users { id } }
  parent { id } alsoInRoom replyCount lastReplyAt threadParticipants { id } mentions { id } pinnedAt pinnedBy { id } edits { content replacedAt } readCount readBy(limit: 3) { id } attachments { id filename url width height } version }`;
const MEMBER = `{ id role isActive joinedAt lastReadAt removedAt mutedUntil user { id displayName companyId online lastSeenAt } room { id } }`;
const ROOM = `{ id type name companyId slowModeSeconds memberCount unreadCount unreadMentionCount pinnedMessages { id } readReceipts { lastReadAt user { id } } createdAt updatedAt lastMessageAt createdBy { id } lastMessage { id seq } myMembership { role lastReadAt } members@@members@@ { id role isActive user { id } } messages@@messages@@ { id seq content metadata isDeleted reactions { reaction count } } }`;
const PAGE = `{ total page pages pageSize items { id name type memberCount lastMessage { id } } }`;

/** Every query, mutation and subscription of the schema, with the arguments each takes. */
function fieldSpecs(fx: Fixture, v: ArgumentValues) {
  const { id, idList, content, reaction, groupName, clientId, metadata, int, bool, enumOf, dateTime, inputObject, cursor, searchQuery } = v;
  const roomId = id(fx.roomIds);
  const messageId = id(fx.messageIds);
  const userId = id(fx.userIds);
  const limit = int(1, 200);
  const page = int(1, 5);
  const pageSize = int(1, 100);

  const roomNested: ArgSpec[] = [
    { name: 'limit', type: 'Int', ...limit, optional: true, at: 'messages' },
    { name: 'before', type: 'ID', ...messageId, optional: true, at: 'messages' },
    { name: 'includeDeleted', type: 'Boolean', ...bool, optional: true, at: 'messages' },
    { name: 'activeOnly', type: 'Boolean', ...bool, optional: true, at: 'members' },
    { name: 'limit', type: 'Int', ...int(1, 500), optional: true, at: 'members' },
    // Not a member's id: a well-formed `after` the room does not know (BAD_USER_INPUT), or none.
    { name: 'after', type: 'ID', ...userId, optional: true, at: 'members' },
  ];

  const mutations: FieldSpec[] = [
    {
      kind: 'mutation',
      field: 'sendMessage',
      args: [
        {
          name: 'input',
          type: 'SendMessageInput!',
          ...inputObject({
            roomId,
            content,
            type: { valid: fc.oneof(fc.constant(MISSING), enumOf(['TEXT', 'IMAGE', 'FILE'], []).valid), bad: enumOf([], ['SYSTEM']).bad },
            clientId,
            metadata,
            parentId: { valid: fc.oneof(fc.constant(MISSING), fc.constant(null), messageId.valid), bad: messageId.bad },
            alsoInRoom: { valid: fc.oneof(fc.constant(MISSING), bool.valid), bad: bool.bad },
            mentionIds: { valid: fc.oneof(fc.constant(MISSING), fc.constant(null), idList(fx.userIds).valid), bad: idList(fx.userIds).bad },
            // Ids of rows that are no uploads (and never arrived): always refused, never a 500.
            attachmentIds: { valid: fc.oneof(fc.constant(MISSING), fc.constant(null)), bad: idList(fx.messageIds).bad },
          }),
        },
      ],
      selection: MESSAGE,
    },
    {
      kind: 'mutation',
      field: 'editMessage',
      args: [
        { name: 'id', type: 'ID!', ...messageId },
        { name: 'content', type: 'String!', ...content },
        { name: 'mentionIds', type: '[ID!]', ...idList(fx.userIds), optional: true },
      ],
      selection: MESSAGE,
    },
    { kind: 'mutation', field: 'pinMessage', args: [{ name: 'id', type: 'ID!', ...messageId }], selection: MESSAGE },
    { kind: 'mutation', field: 'unpinMessage', args: [{ name: 'id', type: 'ID!', ...messageId }], selection: MESSAGE },
    { kind: 'mutation', field: 'deleteMessage', args: [{ name: 'id', type: 'ID!', ...messageId }], selection: MESSAGE },
    { kind: 'mutation', field: 'addReaction', args: [{ name: 'messageId', type: 'ID!', ...messageId }, { name: 'reaction', type: 'String!', ...reaction }], selection: MESSAGE },
    { kind: 'mutation', field: 'removeReaction', args: [{ name: 'messageId', type: 'ID!', ...messageId }, { name: 'reaction', type: 'String!', ...reaction }], selection: MESSAGE },
    {
      kind: 'mutation',
      field: 'addMembers',
      args: [
        { name: 'roomId', type: 'ID!', ...roomId },
        { name: 'userIds', type: '[ID!]!', ...idList(fx.userIds) },
        { name: 'role', type: 'MemberRole', ...enumOf(['MEMBER', 'ADMIN'], ['OWNER']), optional: true },
      ],
      selection: MEMBER,
    },
    { kind: 'mutation', field: 'removeMember', args: [{ name: 'roomId', type: 'ID!', ...roomId }, { name: 'userId', type: 'ID!', ...userId }], selection: '' },
    {
      kind: 'mutation',
      field: 'updateMemberRole',
      args: [
        { name: 'roomId', type: 'ID!', ...roomId },
        { name: 'userId', type: 'ID!', ...userId },
        // Handing over OWNER is valid but rare: it reshuffles who may do what.
        { name: 'role', type: 'MemberRole!', valid: fc.oneof({ weight: 8, arbitrary: enumOf(['MEMBER', 'ADMIN'], []).valid }, { weight: 1, arbitrary: fc.constant(new EnumValue('OWNER')) }), bad: enumOf([], ['owner', 'GOD']).bad },
      ],
      selection: MEMBER,
    },
    { kind: 'mutation', field: 'markRoomRead', args: [{ name: 'roomId', type: 'ID!', ...roomId }, { name: 'at', type: 'DateTime', ...dateTime, optional: true }], selection: MEMBER },
    {
      kind: 'mutation',
      field: 'createGroupChat',
      args: [{ name: 'input', type: 'CreateGroupChatInput!', ...inputObject({ name: groupName, memberIds: idList(fx.userIds) }) }],
      selection: ROOM,
    },
    { kind: 'mutation', field: 'createDirectChat', args: [{ name: 'userId', type: 'ID!', ...userId }], selection: ROOM },
    {
      kind: 'mutation',
      field: 'createUpload',
      args: [
        { name: 'roomId', type: 'ID!', ...roomId },
        { name: 'filename', type: 'String!', valid: fc.constantFrom('a.txt', 'photo.png', 'résumé (2).pdf', '.env'), bad: fc.oneof(groupName.bad, fc.constantFrom('../x', 'a/b', 'a\\b', '..', 'x'.repeat(256))) },
        { name: 'contentType', type: 'String!', valid: fc.constantFrom('text/plain', 'image/png', 'application/pdf'), bad: fc.oneof(groupName.bad, fc.constantFrom('text', 'text/plain; a=b', '/x')) },
        { name: 'size', type: 'Int!', ...int(1, 1000) },
      ],
      selection: '{ attachmentId uploadUrl method headers expiresAt }',
    },
    { kind: 'mutation', field: 'setTyping', args: [{ name: 'roomId', type: 'ID!', ...roomId }, { name: 'isTyping', type: 'Boolean', ...bool, optional: true }], selection: '' },
    {
      kind: 'mutation',
      field: 'muteMember',
      args: [{ name: 'roomId', type: 'ID!', ...roomId }, { name: 'userId', type: 'ID!', ...userId }, { name: 'until', type: 'DateTime', ...dateTime, optional: true }],
      selection: MEMBER,
    },
    { kind: 'mutation', field: 'unmuteMember', args: [{ name: 'roomId', type: 'ID!', ...roomId }, { name: 'userId', type: 'ID!', ...userId }], selection: MEMBER },
    { kind: 'mutation', field: 'banMember', args: [{ name: 'roomId', type: 'ID!', ...roomId }, { name: 'userId', type: 'ID!', ...userId }], selection: '' },
    { kind: 'mutation', field: 'unbanMember', args: [{ name: 'roomId', type: 'ID!', ...roomId }, { name: 'userId', type: 'ID!', ...userId }], selection: '' },
    { kind: 'mutation', field: 'setSlowMode', args: [{ name: 'roomId', type: 'ID!', ...roomId }, { name: 'seconds', type: 'Int!', ...int(0, 3600) }], selection: ROOM },
  ];
  const queries: FieldSpec[] = [
    {
      kind: 'query',
      field: 'messages',
      args: [
        { name: 'roomId', type: 'ID!', ...roomId },
        { name: 'before', type: 'ID', ...messageId, optional: true },
        { name: 'includeDeleted', type: 'Boolean', ...bool, optional: true },
        { name: 'limit', type: 'Int', ...limit, optional: true },
      ],
      selection: MESSAGE,
    },
    { kind: 'query', field: 'message', args: [{ name: 'id', type: 'ID!', ...messageId }], selection: MESSAGE },
    { kind: 'query', field: 'room', args: [{ name: 'id', type: 'ID!', ...roomId }, ...roomNested], selection: ROOM },
    {
      kind: 'query',
      field: 'rooms',
      args: [
        { name: 'page', type: 'Int', ...page, optional: true },
        { name: 'pageSize', type: 'Int', ...pageSize, optional: true },
        { name: 'type', type: 'RoomType', ...enumOf(['GROUP', 'DIRECT'], ['CHANNEL']), optional: true },
      ],
      selection: PAGE,
    },
    {
      kind: 'query',
      field: 'companyRooms',
      args: [
        { name: 'page', type: 'Int', ...page, optional: true },
        { name: 'pageSize', type: 'Int', ...pageSize, optional: true },
      ],
      selection: PAGE,
    },
    { kind: 'query', field: 'directChat', args: [{ name: 'userId', type: 'ID!', ...userId }, ...roomNested], selection: ROOM },
    { kind: 'query', field: 'me', args: [], selection: '{ id displayName companyId online lastSeenAt }' },
    {
      kind: 'query',
      field: 'thread',
      args: [
        { name: 'parentId', type: 'ID!', ...messageId },
        { name: 'limit', type: 'Int', ...limit, optional: true },
        { name: 'before', type: 'ID', ...messageId, optional: true },
      ],
      selection: MESSAGE,
    },
    {
      kind: 'query',
      field: 'mentions',
      args: [
        { name: 'limit', type: 'Int', ...limit, optional: true },
        { name: 'before', type: 'ID', ...messageId, optional: true },
      ],
      selection: MESSAGE,
    },
    {
      kind: 'query',
      field: 'changes',
      args: [
        { name: 'since', type: 'String', ...cursor, optional: true },
        { name: 'limit', type: 'Int', ...int(1, 500), optional: true },
      ],
      selection: `{ cursor hasMore messages ${MESSAGE} memberships { id role isActive room { id } } }`,
    },
    {
      kind: 'query',
      field: 'searchMessages',
      args: [
        { name: 'query', type: 'String!', ...searchQuery },
        { name: 'roomId', type: 'ID', ...roomId, optional: true },
        { name: 'limit', type: 'Int', ...int(1, 100), optional: true },
        { name: 'before', type: 'ID', ...messageId, optional: true },
      ],
      selection: '{ snippet message { id content version } }',
    },
  ];
  const subscriptions: FieldSpec[] = [
    {
      kind: 'subscription',
      field: 'messageAdded',
      args: [
        { name: 'roomId', type: 'ID', ...roomId, optional: true },
        { name: 'since', type: 'ID', ...messageId, optional: true },
      ],
      selection: '{ id seq content sender { id } }',
    },
    {
      kind: 'subscription',
      field: 'messageUpdated',
      args: [
        { name: 'roomId', type: 'ID', ...roomId, optional: true },
        { name: 'since', type: 'String', ...cursor, optional: true },
      ],
      selection: '{ id content isDeleted version reactions { reaction count } }',
    },
    { kind: 'subscription', field: 'typing', args: [{ name: 'roomId', type: 'ID!', ...roomId }], selection: '{ isTyping at user { id } room { id } }' },
    { kind: 'subscription', field: 'readReceipt', args: [{ name: 'roomId', type: 'ID!', ...roomId }], selection: '{ lastReadAt user { id } room { id } }' },
    { kind: 'subscription', field: 'membershipChanged', args: [], selection: '{ kind member { id role isActive } room { id } }' },
    { kind: 'subscription', field: 'presenceChanged', args: [{ name: 'roomId', type: 'ID!', ...roomId }], selection: '{ online lastSeenAt user { id online lastSeenAt } }' },
  ];
  return { mutations, queries, subscriptions };
}

/* ------------------------------------------------------------ documents */

const WRONG_DECLARED = ['ID', 'ID!', 'String', 'String!', 'Int', 'Int!', 'Float', 'Boolean!', 'JSON', '[ID!]', '[[ID]]', 'MemberRole', 'DateTime', 'SendMessageInput', 'Nope', '[String!]!'];

/** `clean`: valid arguments only; `fuzzed`: a mix; `hostile`: mostly mutated. */
type Mode = 'clean' | 'fuzzed' | 'hostile';

function argChoice(arg: ArgSpec, mode: Mode): fc.Arbitrary<ArgChoice> {
  const clean = mode === 'clean';
  return fc.record({
    value: clean ? arg.valid : fc.oneof({ weight: mode === 'fuzzed' ? 3 : 1, arbitrary: arg.valid }, { weight: mode === 'fuzzed' ? 2 : 4, arbitrary: arg.bad }),
    how: clean
      ? fc.constantFrom<ArgChoice['how']>(...(arg.optional ? (['var', 'var', 'inline', 'omit'] as const) : (['var', 'var', 'inline'] as const)))
      : fc.oneof({ weight: 6, arbitrary: fc.constant<ArgChoice['how']>('var') }, { weight: 1, arbitrary: fc.constantFrom<ArgChoice['how']>('inline', 'omit') }),
    declared: clean ? fc.constant(arg.type) : fc.oneof({ weight: 20, arbitrary: fc.constant(arg.type) }, { weight: 1, arbitrary: fc.constantFrom(...WRONG_DECLARED) }),
  });
}

/** A well-formed document calling one of `specs`, its arguments chosen as `mode` says. */
function fieldOp(specs: FieldSpec[], mode: Mode): fc.Arbitrary<OpShape> {
  return fc.constantFrom(...specs).chain((spec) =>
    fc.tuple(...spec.args.map((a) => argChoice(a, mode))).map((choices) => buildOp(spec, choices as ArgChoice[], `${mode} ${spec.field}`)),
  );
}

const depthBomb = (n: number) => `query Fuzz { rooms { items { ${'lastMessage { room { '.repeat(n)} id ${'} } '.repeat(n)} } } }`;

const FIXED_BROKEN = [
  'fragment A on Query { ...B } fragment B on Query { ...A } query Fuzz { ...A }',
  'query A { me { id } } query B { me { id } }',
  'query Fuzz { me { id nope } }',
  'query Fuzz { nope }',
  '{ me { id } } }',
  'query Fuzz($x: ID!) { me { id } }',
  'query Fuzz { room(id: $undeclared) { id } }',
  'query Fuzz { me @include(if: "yes") { id } }',
  'query Fuzz { me @nope { id } }',
  'query Fuzz { __schema { types { name fields { name args { name } } } } }',
  'query Fuzz { __typename }',
  'query Fuzz($x: [[[[ID!]!]!]!]!) { me { id } }',
  'subscription Fuzz { messageAdded { id } typing(roomId: "x") { at } }',
  'mutation Fuzz { sendMessage { id } }',
  'query Fuzz { messages(roomId: "00000000-0000-0000-0000-000000000000", limit: 99999999999999999999) { id } }',
  'query Fuzz { rooms(pageSize: 1.5) { total } }',
  'query Fuzz { me { ... on Room { id } } }',
  'query Fuzz { me { id } } # \u0000',
  '"""unterminated',
  'query Fuzz { me { id } } fragment Unused on User { id }',
  `query Fuzz { me { id ${'__typename '.repeat(1500)}} }`,
  'query Fuzz { rooms(pageSize: 100) { items { messages(limit: 200) { reactions { users { id } } room { members { user { id } } } } } } }',
  'mutation Fuzz { a: setTyping(roomId: "x") b: setTyping(roomId: "y") }',
  'query Fuzz { me { id } } mutation Fuzz { setTyping(roomId: "x") }',
  'query Fuzz { room(id: """block\nstring""") { id } }',
  'query Fuzz { room(id: "\\uD800") { id } }',
  'query Fuzz { room(id: "\\u{110000}") { id } }',
  '',
  '   ',
  '\uFEFFquery Fuzz { me { id } }',
];

/** A way to break a document: cut, splice, replace it, or make it too deep, too wide or too long. */
function breakage(oddUnicode: fc.Arbitrary<string>, maxHuge: number): fc.Arbitrary<(q: string) => string> {
  const at = fc.double({ min: 0, max: 1, noNaN: true });
  return fc.oneof(
    at.map((f) => (q: string) => q.slice(0, Math.floor(q.length * f))),
    fc
      .tuple(at, fc.oneof(fc.constantFrom('{', '}', '(', ')', '[', ']', ':', '$', '!', '@', '#', '"', '"""', '\\', '...', '&', '|', '=', ',', '\u0000', '\uD800', 'query', 'mutation', 'fragment'), oddUnicode))
      .map(([f, s]) => (q: string) => q.slice(0, Math.floor(q.length * f)) + s + q.slice(Math.floor(q.length * f))),
    fc.tuple(at, at).map(([a, b]) => (q: string) => q.slice(0, Math.floor(q.length * Math.min(a, b))) + q.slice(Math.floor(q.length * Math.max(a, b)))),
    fc.oneof(fc.string({ maxLength: 60 }), oddUnicode).map((s) => () => s),
    fc.constantFrom(...FIXED_BROKEN).map((s) => () => s),
    fc.integer({ min: 9, max: 60 }).map((n) => () => depthBomb(n)),
    fc.integer({ min: 21, max: 300 }).map((n) => () => `query Fuzz { ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(' ')} }`),
    fc.integer({ min: 20_001, max: Math.max(20_002, maxHuge) }).map((n) => (q: string) => `${q}\n#${'x'.repeat(n)}`),
    fc.integer({ min: 100, max: 6000 }).map((n) => () => `${'{'.repeat(n)}${'}'.repeat(n)}`),
  );
}

/**
 * The arguments the generators give values to, as `Type.field(argument)`
 * (root fields, and Room.messages / Room.members nested in a room): a test
 * holds every argument of the schema's operations to this list, so a new
 * argument cannot go unfuzzed.
 */
export function fuzzedArguments(fx: Fixture): Set<string> {
  const { mutations, queries, subscriptions } = fieldSpecs(fx, argumentValues(fx, 5000));
  const typeOf = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' } as const;
  const covered = new Set<string>();
  for (const spec of [...mutations, ...queries, ...subscriptions]) {
    for (const arg of spec.args) covered.add(arg.at ? `Room.${arg.at}(${arg.name})` : `${typeOf[spec.kind]}.${spec.field}(${arg.name})`);
  }
  return covered;
}

/**
 * The schema's fields over the fixture's values, and the two ways to make a
 * document of them: `fieldOp` (well-formed) and `broken` (malformed).
 */
export function fixtureOperations(fx: Fixture, maxHuge: number) {
  const values = argumentValues(fx, maxHuge);
  const { mutations, queries, subscriptions } = fieldSpecs(fx, values);
  const breakDocument = breakage(values.oddUnicode, maxHuge);
  const broken = (specs: FieldSpec[]): fc.Arbitrary<OpShape> =>
    fc.tuple(fieldOp(specs, 'fuzzed'), breakDocument).map(([op, brk]) => ({
      ...op,
      query: brk(op.query),
      label: `broken ${op.field}`,
    }));
  return { mutations, queries, subscriptions, fieldOp, broken };
}

/* ------------------------------------------------------------ batches */

export interface HttpBatchOptions {
  size: number;
  /** FUZZ_SKIP's categories: `http-subs` and the wire shapes of ODD_WIRES. */
  skipped: (category: string) => boolean;
  /** Whether the request the operation makes is small enough to send (under the body and URL limits). */
  fits: (op: Op) => boolean;
}

/**
 * Batches of `size` HTTP operations from every actor (the roles, a stranger,
 * an outsider, no token, bad tokens), mostly JSON POSTs, some odd wire shapes.
 */
export function httpBatch(fx: Fixture, { size, skipped, fits }: HttpBatchOptions): fc.Arbitrary<Op[]> {
  const arb = fixtureOperations(fx, HUGE_HTTP);
  const u = fx.users;
  const actor = fc.oneof(
    { weight: 6, arbitrary: fc.constant({ actor: 'owner', token: u.owner.token as string | null }) },
    { weight: 3, arbitrary: fc.constant({ actor: 'admin', token: u.admin.token as string | null }) },
    { weight: 3, arbitrary: fc.constant({ actor: 'member', token: u.member.token as string | null }) },
    { weight: 1, arbitrary: fc.constant({ actor: 'stranger', token: u.stranger.token as string | null }) },
    { weight: 1, arbitrary: fc.constant({ actor: 'outsider', token: u.outsider.token as string | null }) },
    { weight: 1, arbitrary: fc.constant({ actor: 'anonymous', token: null as string | null }) },
    { weight: 1, arbitrary: fc.constantFrom(...fx.badTokens.map((b) => ({ actor: b.label, token: b.token as string | null }))) },
  );
  const wire: fc.Arbitrary<Wire> = fc.oneof(
    { weight: 40, arbitrary: fc.constant<Wire>('json') },
    { weight: 1, arbitrary: fc.constantFrom<Wire>(...ODD_WIRES.filter((w) => !skipped(w))) },
  );
  const all = [...arb.mutations, ...arb.queries];
  const subscriptions = skipped('http-subs') ? [] : arb.subscriptions;
  const subscriptionOps = subscriptions.length ? [{ weight: 1, arbitrary: arb.fieldOp(subscriptions, 'fuzzed') }] : [];
  const withActorAndWire = (shape: fc.Arbitrary<OpShape>): fc.Arbitrary<Op> =>
    fc
      .tuple(shape, actor, wire)
      .map(([o, a, w]): Op => ({ ...o, ...a, wire: w }))
      .filter(fits)
      .map((op) => withToString(op, () => describeOp(op)));
  // Mixed batches change the state (valid operations from every role); hostile
  // ones are mostly refused, so the unchanged-rows check bites more often.
  const mixed = withActorAndWire(
    fc.oneof(
      { weight: 4, arbitrary: arb.fieldOp(all, 'clean') },
      { weight: 7, arbitrary: arb.fieldOp(all, 'fuzzed') },
      ...subscriptionOps,
      { weight: 2, arbitrary: arb.broken([...all, ...subscriptions]) },
    ),
  );
  const hostile = withActorAndWire(
    fc.oneof({ weight: 6, arbitrary: arb.fieldOp(arb.mutations, 'hostile') }, { weight: 2, arbitrary: arb.fieldOp(all, 'fuzzed') }, ...subscriptionOps, { weight: 1, arbitrary: arb.broken([...all, ...subscriptions]) }),
  );
  return fc.oneof(fc.array(mixed, { minLength: size, maxLength: size }), fc.array(hostile, { minLength: size, maxLength: size }));
}

/** The users that hold a socket in the WebSocket run (bad tokens never get one). */
export type SocketActor = 'owner' | 'admin' | 'member' | 'stranger' | 'outsider';

export interface WsBatchOptions {
  size: number;
  /** Whether the subscribe frame the operation makes is under the frame limit. */
  fits: (op: Op) => boolean;
}

/** Batches of `size` graphql-ws operations (queries, mutations and subscriptions) from the fixture's users. */
export function wsBatch(fx: Fixture, { size, fits }: WsBatchOptions): fc.Arbitrary<Op[]> {
  const arb = fixtureOperations(fx, HUGE_WS);
  const actor = fc.oneof(
    { weight: 6, arbitrary: fc.constant<SocketActor>('owner') },
    { weight: 3, arbitrary: fc.constant<SocketActor>('admin') },
    { weight: 3, arbitrary: fc.constant<SocketActor>('member') },
    { weight: 1, arbitrary: fc.constantFrom<SocketActor>('stranger', 'outsider') },
  );
  const all = [...arb.mutations, ...arb.queries];
  const withActor = (shape: fc.Arbitrary<OpShape>): fc.Arbitrary<Op> =>
    fc
      .tuple(shape, actor)
      .map(([o, a]): Op => ({ ...o, actor: a, token: fx.users[a].token, wire: 'json' }))
      .filter(fits)
      .map((op) => withToString(op, () => describeOp(op)));
  const mixed = withActor(
    fc.oneof(
      { weight: 3, arbitrary: arb.fieldOp(all, 'clean') },
      { weight: 6, arbitrary: arb.fieldOp(all, 'fuzzed') },
      { weight: 1, arbitrary: arb.fieldOp(arb.subscriptions, 'clean') },
      { weight: 3, arbitrary: arb.fieldOp(arb.subscriptions, 'fuzzed') },
      { weight: 2, arbitrary: arb.broken([...all, ...arb.subscriptions]) },
    ),
  );
  const hostile = withActor(
    fc.oneof(
      { weight: 6, arbitrary: arb.fieldOp(arb.mutations, 'hostile') },
      { weight: 2, arbitrary: arb.fieldOp(arb.subscriptions, 'hostile') },
      { weight: 1, arbitrary: arb.broken([...all, ...arb.subscriptions]) },
    ),
  );
  return fc.oneof(fc.array(mixed, { minLength: size, maxLength: size }), fc.array(hostile, { minLength: size, maxLength: size }));
}
