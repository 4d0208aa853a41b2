import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/** Whether the client asked for `field` directly under the current field (through fragments too). */
export function selects(info: GraphQLResolveInfo, field: string): boolean {
  const seen = new Set<string>();
  const search = (set: SelectionSetNode | undefined): boolean =>
    (set?.selections ?? []).some((node) => {
      switch (node.kind) {
        case Kind.FIELD:
          return node.name.value === field;
        case Kind.INLINE_FRAGMENT:
          return search(node.selectionSet);
        case Kind.FRAGMENT_SPREAD: {
          if (seen.has(node.name.value)) return false;
          seen.add(node.name.value);
          return search(info.fragments[node.name.value]?.selectionSet);
        }
        default:
          return false;
      }
    });
  return info.fieldNodes.some((node) => search(node.selectionSet));
}
