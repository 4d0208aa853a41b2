import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { type DocumentNode, execute, type ExecutionResult, type GraphQLError, type GraphQLSchema, Kind, type OperationDefinitionNode } from 'graphql';
import { compileQuery, type CompiledQuery, isCompiledQuery } from 'graphql-jit';

/**
 * Executes HTTP operations with graphql-jit: each document (Apollo hands the
 * same DocumentNode for the same text, from its document store) is compiled
 * once per operation into a function, so a history page's ~1,000 fields cost
 * plain property reads instead of graphql-js's generic walk. graphql-js stays
 * the fallback, and the reference: wherever Apollo resolved no operation (an
 * unknown or empty operationName, several operations and none named) it runs,
 * so the answer is graphql-js's own error; and a document the compiler cannot
 * take runs on it too. Errors keep their `originalError` (and get the
 * `extensions` Apollo expects), so the one error formatter maps domain errors
 * to their codes as before.
 */
export function compiledExecutor(schema: GraphQLSchema): GatewayExecutor {
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery | null>>();

  const compiledFor = (document: DocumentNode, operationName: string): CompiledQuery | null => {
    let perOperation = compiled.get(document);
    if (!perOperation) compiled.set(document, (perOperation = new Map()));
    let query = perOperation.get(operationName);
    if (query === undefined) {
      const result = compileQuery(schema, document, operationName, { disablingCapturingStackErrors: true });
      query = isCompiledQuery(result) ? result : null;
      perOperation.set(operationName, query);
    }
    return query;
  };

  return async (requestContext) => {
    const { document, request, operation, context: contextValue } = requestContext;
    const byName = operation?.name?.value ?? '';
    const query = operation && operation.operation !== 'subscription' && !resolvesEntities(operation) ? compiledFor(document, byName) : null;
    if (!query || (byName === '' && request.operationName)) {
      return (await execute({
        schema,
        document,
        contextValue,
        variableValues: request.variables,
        operationName: request.operationName,
      })) as ExecutionResult as never;
    }
    const result = (await query.query(undefined, contextValue, request.variables ?? {})) as ExecutionResult;
    return (result.errors ? { ...result, errors: result.errors.map(withExtensions) } : result) as never;
  };
}

/**
 * A subgraph's `_entities` runs on graphql-js: graphql-jit drops a list item
 * whose resolver failed instead of leaving null in its place, so the items
 * after it would answer for the wrong representations (a gateway matches them
 * by position).
 */
function resolvesEntities(operation: OperationDefinitionNode): boolean {
  return operation.selectionSet.selections.some((s) => s.kind !== Kind.FIELD || s.name.value === '_entities');
}

/**
 * graphql-jit's errors leave `extensions` undefined (and not writable), where
 * graphql-js gives an object that Apollo reads a code from: the same error
 * (its message, locations, path and originalError, by inheritance) with one.
 */
function withExtensions(error: GraphQLError): GraphQLError {
  if (error.extensions) return error;
  return Object.create(error, { extensions: { value: {}, enumerable: false } }) as GraphQLError;
}

/** Apollo's way in for a custom executor: a "gateway" that serves our own schema. */
export function compiledGateway(schema: GraphQLSchema): GatewayInterface {
  let announce: ((context: { apiSchema: GraphQLSchema; coreSupergraphSdl: string }) => void) | null = null;
  return {
    onSchemaLoadOrUpdate(callback) {
      announce = callback;
      return () => {
        announce = null;
      };
    },
    async load() {
      announce?.({ apiSchema: schema, coreSupergraphSdl: '' });
      return { executor: compiledExecutor(schema) };
    },
    async stop() {},
  };
}
