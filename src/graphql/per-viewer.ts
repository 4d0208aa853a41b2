import { type DocumentNode, type GraphQLField, type GraphQLSchema, Kind, TypeInfo, visit, visitWithTypeInfo } from 'graphql';

/**
 * Declares, on the field itself (`@Extensions(PER_VIEWER)`), that its answer
 * depends on who asks: the viewer's own state (unreadCount, reactedByMe...) or
 * whether the viewer may see the room (members, messages...). Such a field
 * reads `ctx.viewer()`; a subscription selecting none of them is executed once
 * per event for all its recipients (src/transport/subscription-executor.ts).
 * test/per-viewer-fields.test.ts fails when a field reads the viewer unmarked.
 */
export const PER_VIEWER = { perViewer: true } as const;

export function isPerViewer(field: GraphQLField<unknown, unknown> | null | undefined): boolean {
  return field?.extensions?.perViewer === true;
}

const answers = new WeakMap<DocumentNode, boolean>();

/** Whether the document selects any per-viewer field (through fragments too); cached per document. */
export function readsViewer(schema: GraphQLSchema, document: DocumentNode): boolean {
  let answer = answers.get(document);
  if (answer === undefined) {
    answer = false;
    const typeInfo = new TypeInfo(schema);
    visit(
      document,
      visitWithTypeInfo(typeInfo, {
        [Kind.FIELD]() {
          if (isPerViewer(typeInfo.getFieldDef())) answer = true;
        },
      }),
    );
    answers.set(document, answer);
  }
  return answer;
}
