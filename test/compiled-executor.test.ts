import { expect } from 'chai';
import { buildSchema, execute, parse } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { buildChatSchema } from '../src/graphql/schema';

/**
 * HTTP operations run compiled by graphql-jit (src/transport/compiled-executor.ts),
 * patched (patches/graphql-jit+0.8.9.patch) so a leaf's null and error checks
 * are inline and build their error's location and path only for an error. The
 * answers, errors included, stay graphql-js's own.
 */
describe('graphql-jit, as patched', () => {
  const schema = buildSchema(`
    type Query { items: [Item] }
    type Item { id: ID! name: String count: Int! }
  `);
  const rows = [
    { id: '1', name: 'one', count: 1 },
    { id: '2', name: null, count: 2 },
    { id: '3', name: new Error('name failed'), count: 3 },
    { id: '4', name: 'four', count: null },
    { id: '5', name: 'five', count: new Error('count failed') },
    { id: null, name: 'six', count: 6 },
  ];
  const document = parse(`query Items {\n  items {\n    id\n    name\n    count\n  }\n}`);

  it('answers leaves exactly as graphql-js does: values, null, a failed nullable leaf, a null or failed non-null one', async () => {
    const compiled = compileQuery(schema, document, 'Items', { disablingCapturingStackErrors: true });
    if (!isCompiledQuery(compiled)) throw new Error('not compiled');
    const ours = await compiled.query({ items: rows }, {}, {});
    const reference = await execute({ schema, document, rootValue: { items: rows } });
    expect(JSON.parse(JSON.stringify(ours))).to.deep.equal(JSON.parse(JSON.stringify(reference)));
    expect(ours.errors?.map((e) => [e.message, e.path, e.locations])).to.deep.equal([
      ['name failed', ['items', 2, 'name'], [{ line: 4, column: 5 }]],
      ['Cannot return null for non-nullable field Item.count.', ['items', 3, 'count'], [{ line: 5, column: 5 }]],
      ['count failed', ['items', 4, 'count'], [{ line: 5, column: 5 }]],
      ['Cannot return null for non-nullable field Item.id.', ['items', 5, 'id'], [{ line: 3, column: 5 }]],
    ]);
  });

  it('calls resolvers as graphql-js does: a value, a throw, a promise and a rejection, on nullable and non-null fields', async () => {
    const withResolvers = buildSchema(`
      type Query { things: [Thing] }
      type Thing { n: Int! plain: Int later: Int broken: Int failing: Int rejected: Int required: Int! }
    `);
    const fields = withResolvers.getType('Thing') as unknown as { getFields(): Record<string, { resolve?: (thing: { n: number }) => unknown }> };
    const thing = fields.getFields();
    thing.plain.resolve = ({ n }) => n * 10;
    thing.later.resolve = async ({ n }) => n * 100;
    thing.broken.resolve = ({ n }) => {
      if (n === 2) throw new Error(`broken ${n}`);
      return n;
    };
    thing.rejected.resolve = async ({ n }) => {
      if (n === 1) throw new Error(`rejected ${n}`);
      return -n;
    };
    thing.required.resolve = ({ n }) => (n === 3 ? null : n);
    const query = parse('query Things { things { n plain later broken rejected required } }');
    const things = [{ n: 1 }, { n: 2 }, { n: 3 }];
    const compiled = compileQuery(withResolvers, query, 'Things', { disablingCapturingStackErrors: true });
    if (!isCompiledQuery(compiled)) throw new Error('not compiled');
    const ours = await compiled.query({ things }, {}, {});
    const reference = await execute({ schema: withResolvers, document: query, rootValue: { things } });
    expect(JSON.parse(JSON.stringify(ours))).to.deep.equal(JSON.parse(JSON.stringify(reference)));
    expect(ours.errors?.map((e) => e.path?.join('.')).sort()).to.deep.equal(['things.0.rejected', 'things.1.broken', 'things.2.required']);
  });

  it('gives the info to every resolver but one marked resolvesWithoutInfo, and builds none for that one', async () => {
    const withInfo = buildSchema('type Query { items: [Item] } type Item { where: String plain: Int }');
    const item = (withInfo.getType('Item') as unknown as { getFields(): Record<string, { resolve?: (...params: never[]) => unknown }> }).getFields();
    item.where.resolve = (_root: unknown, _args: unknown, _context: unknown, info: { fieldName: string; path: { key: unknown; prev?: { key: unknown } } }) =>
      `${info.fieldName} of item ${String(info.path.prev?.key)}`;
    item.plain.resolve = Object.assign(() => 7, { resolvesWithoutInfo: true });
    const compiled = compileQuery(withInfo, parse('{ items { where plain } }'));
    if (!isCompiledQuery(compiled)) throw new Error('not compiled');
    expect((await compiled.query({ items: [{}, {}] }, {}, {})).data).to.deep.equal({
      items: [
        { where: 'where of item 0', plain: 7 },
        { where: 'where of item 1', plain: 7 },
      ],
    });
    const code = (compileQuery(withInfo, parse('{ items { plain } }'), undefined, { debug: true } as never) as { __DO_NOT_USE_THIS_OR_YOU_WILL_BE_FIRED_compilation: string })
      .__DO_NOT_USE_THIS_OR_YOU_WILL_BE_FIRED_compilation;
    expect(code).to.include('resolveInfos.itemsInfo'); // the root field's own (unmarked) resolver gets one
    expect(code).to.not.match(/resolveInfos\.plain/);
  });

  it("marks our field resolvers that take no info (a history page's fields build none)", () => {
    const message = (buildChatSchema().getType('Message') as unknown as { getFields(): Record<string, { resolve?: (...params: never[]) => unknown }> }).getFields();
    for (const field of ['sender', 'isEdited', 'replyCount', 'readCount', 'mentions', 'reactions']) {
      expect((message[field].resolve as { resolvesWithoutInfo?: boolean } | undefined)?.resolvesWithoutInfo, field).to.equal(true);
    }
  });

  /** The code graphql-jit generates for `query` (its debug output). */
  function compileCode(query: string, sdl: string): string {
    const compiled = compileQuery(buildSchema(sdl), parse(query), undefined, { debug: true } as never) as { __DO_NOT_USE_THIS_OR_YOU_WILL_BE_FIRED_compilation?: string };
    return compiled.__DO_NOT_USE_THIS_OR_YOU_WILL_BE_FIRED_compilation ?? '';
  }

  it('compiles leaves and resolver calls without the runtime helpers that take new arrays and closures per value (the patch is applied)', () => {
    const compiled = compileQuery(schema, document, 'Items', { debug: true } as never) as { __DO_NOT_USE_THIS_OR_YOU_WILL_BE_FIRED_compilation?: string };
    const code = compiled.__DO_NOT_USE_THIS_OR_YOU_WILL_BE_FIRED_compilation ?? '';
    expect(code).to.include('IDSerializer');
    expect(code).to.not.match(/checkNonNullLeaf|checkNullableLeaf/);
    expect(compileCode('query Things { things { plain } }', 'type Query { things: [Thing] } type Thing { plain: Int }')).to.not.include('rt.callResolver(');
  });
});
