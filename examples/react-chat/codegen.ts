import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents from the API's generated schema (`npm run schema` in the
 * repository root writes it). The output in src/gql/ is checked in, so the
 * example builds without running this; CI runs `codegen` then `typecheck`, so a
 * schema change that breaks an operation of the client fails there.
 */
const config: CodegenConfig = {
  schema: '../../schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**'],
  generates: {
    './src/gql/': {
      preset: 'client',
      // Components read whole messages (every source writes the same fields), so no masking.
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        strictScalars: true,
        scalars: { DateTime: 'string', JSON: 'unknown' },
        nonOptionalTypename: true,
        skipTypeNameForRoot: true,
      },
    },
  },
};

export default config;
