import { expect } from 'chai';
import { defaultFieldResolver, type GraphQLField, type GraphQLResolveInfo, isObjectType, parse } from 'graphql';
import { createContext, NoViewerError, type GraphQLContext } from '../src/graphql/context';
import { RowReader } from '../src/chat/reading/row-reader';
import { isPerViewer, readsViewer as readsViewerOf } from '../src/graphql/per-viewer';
import { buildChatSchema } from '../src/graphql/schema';

/*
 * A subscription event selecting no per-viewer field is executed once for all
 * its recipients (src/transport/subscription-executor.ts), with no viewer. So a
 * field that reads the viewer (ctx.viewer()) must say so on its declaration,
 * @Extensions(PER_VIEWER), or every subscriber would get the first one's
 * answer. This calls every field's resolver with a context that records
 * whether the viewer was read, and holds each declaration to what it does.
 */

/** A stand-in reader: every method answers at once with nothing; `actor` is someone. */
function stubReader(onUse: () => void) {
  return new Proxy(
    {},
    {
      get(_target, property) {
        onUse();
        if (property === 'actor') return { id: '00000000-0000-4000-8000-000000000001', displayName: null, companyId: null };
        if (property === 'then') return undefined;
        return () => Promise.resolve(null);
      },
    },
  );
}

/** A root with every property a field resolver reads off a record (own properties: type-graphql copies them). */
const ROOT = {
  id: '00000000-0000-4000-8000-000000000003',
  roomId: '00000000-0000-4000-8000-000000000004',
  userId: '00000000-0000-4000-8000-000000000005',
  memberId: '00000000-0000-4000-8000-000000000006',
  senderId: '00000000-0000-4000-8000-000000000005',
  createdById: '00000000-0000-4000-8000-000000000005',
  userIds: ['00000000-0000-4000-8000-000000000002'],
  editedAt: null,
};

/** Whether the field's resolver reads the caller (viewer() or actor()). */
async function readsViewer(field: GraphQLField<unknown, unknown>): Promise<boolean> {
  let read = false;
  const context = {
    // The caller is read through actor() as well as viewer(): either makes a field per viewer.
    actor: () => {
      read = true;
      return { id: '00000000-0000-4000-8000-000000000001', displayName: null, companyId: null };
    },
    rows: () => stubReader(() => {}),
    viewer: () => {
      read = true;
      return stubReader(() => {});
    },
  } as unknown as GraphQLContext;
  const info = { fieldName: field.name, fieldNodes: [], fragments: {}, variableValues: {} } as unknown as GraphQLResolveInfo;
  const args = Object.fromEntries(field.args.map((a) => [a.name, a.defaultValue]));
  try {
    await (field.resolve ?? defaultFieldResolver)(ROOT, args, context, info);
  } catch {
    // Stand-ins answer nothing, so a resolver may throw on what it got; what matters is what it read.
  }
  return read;
}

describe('per-viewer fields are declared where they are declared', () => {
  const schema = buildChatSchema();
  const fields = Object.values(schema.getTypeMap())
    .filter(isObjectType)
    .filter((type) => !type.name.startsWith('__') && type.name !== 'Query' && type.name !== 'Mutation')
    .flatMap((type) => Object.values(type.getFields()).map((field) => ({ name: `${type.name}.${field.name}`, field })));

  it('checks every field of every type a subscription can reach', () => {
    expect(fields.length).to.be.above(40);
    expect(fields.map((f) => f.name)).to.include.members(['Room.unreadCount', 'ReactionSummary.reactedByMe', 'Message.sender']);
  });

  for (const { name, field } of fields) {
    it(`${name}: ${isPerViewer(field) ? 'per viewer, and reads the viewer' : 'shared, and never reads the viewer'}`, async () => {
      expect(await readsViewer(field), `${name} reads the viewer ${isPerViewer(field) ? 'not' : 'but is not marked @Extensions(PER_VIEWER)'}`).to.equal(
        isPerViewer(field),
      );
    });
  }
});

describe('readsViewer: whether a document selects any per-viewer field', () => {
  const schema = buildChatSchema();
  const cases: [string, string, boolean][] = [
    ['no per-viewer field', `subscription { messageAdded { id content sender { id } } }`, false],
    ['one, first of several', `subscription { messageAdded { room { unreadCount } id content } }`, true],
    ['one, last of several', `subscription { messageAdded { id content room { id unreadCount } } }`, true],
    ['one, between shared fields', `subscription { messageAdded { id reactions { reactedByMe count } content } }`, true],
    ['one, inside a fragment', `subscription { messageAdded { ...F id } } fragment F on Message { room { myMembership { id } } }`, true],
    ['one, inside an inline fragment', `subscription { messageAdded { ... on Message { room { members { id } } } content } }`, true],
    ['a shared field of the same name as none', `subscription { membershipChanged { kind member { id } } }`, false],
  ];
  for (const [label, query, expected] of cases) {
    it(`${expected ? 'reads' : 'does not read'} the viewer: ${label}`, () => {
      expect(readsViewerOf(schema, parse(query))).to.equal(expected);
    });
  }
});

describe('an execution shared by every recipient of an event', () => {
  it('has no caller: actor() throws there as viewer() does', async () => {
    const request = createContext({} as never, { auth: { actor: { id: 'u', displayName: null, companyId: null }, expiresAt: null } });
    expect(request.actor().id).to.equal('u');
    const shared = request.forEvent(new RowReader({} as never), null);
    expect(() => shared.actor()).to.throw(NoViewerError);
    expect(() => shared.viewer()).to.throw(NoViewerError);
    const perViewer = request.forEvent(new RowReader({} as never), new Map());
    expect(perViewer.actor().id).to.equal('u');
  });
});
