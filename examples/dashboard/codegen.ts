// graphql-codegen's client preset: typed documents (graphql()) for the operations in src/, from
// the committed schema files (src/gql/), and, when LCW_GRAPHQL_URL names a running gateway's
// /graphql, again from its live introspection (src/gql-live/); scripts/check-live-schema.mjs says
// whether the two are the same. src/gql/persisted-documents.json is the manifest the gateway's
// --persisted-only reads; vite build copies it into dist/.
import type { CodegenConfig } from '@graphql-codegen/cli';
import { addTypenameSelectionDocumentTransform } from '@graphql-codegen/client-preset';

function clientPreset(schema: string): CodegenConfig['generates'][string] {
  return {
    schema,
    preset: 'client',
    presetConfig: {
      // sha256 ids, which --persisted-only and APQ both key on.
      persistedDocuments: { hashAlgorithm: 'sha256' },
      fragmentMasking: false,
    },
    // graphcache needs __typename on every object; adding it here puts it in the manifest too,
    // so the documents the gateway runs are exactly the ones the cache reads.
    documentTransforms: [addTypenameSelectionDocumentTransform],
    config: {
      // DateTime is RFC 3339 text on the wire; the pages parse it when they need a Date.
      scalars: { DateTime: 'string' },
      strictScalars: true,
      enumsAsTypes: true,
      useTypeImports: true,
    },
  };
}

const live = process.env.LCW_GRAPHQL_URL;

const codegen: CodegenConfig = {
  overwrite: true,
  documents: ['src/**/*.tsx', 'src/**/*.ts', '!src/gql/**', '!src/gql-live/**'],
  ignoreNoDocuments: false,
  generates: {
    'src/gql/': clientPreset('../../schema/*.graphqls'),
    ...(live ? { 'src/gql-live/': clientPreset(live) } : {}),
  },
};

export default codegen;
