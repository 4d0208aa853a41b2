import { expect } from 'chai';
import { buildSchema, execute, parse } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';

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

  it('compiles leaves without the runtime helpers that take a new location and path array per value (the patch is applied)', () => {
    const compiled = compileQuery(schema, document, 'Items', { debug: true } as never) as { __DO_NOT_USE_THIS_OR_YOU_WILL_BE_FIRED_compilation?: string };
    const code = compiled.__DO_NOT_USE_THIS_OR_YOU_WILL_BE_FIRED_compilation ?? '';
    expect(code).to.include('IDSerializer');
    expect(code).to.not.match(/checkNonNullLeaf|checkNullableLeaf/);
  });
});
