// graphql-codegen's client preset with persisted documents, over the dashboard operations of
// examples/operations: it writes persisted-documents.json, the manifest --persisted-only reads.
// The output folder is LCW_PERSISTED_OUT (a temporary folder: nothing generated is committed).
import type { CodegenConfig } from '@graphql-codegen/cli';

const out = process.env.LCW_PERSISTED_OUT;
if (!out) throw new Error('set LCW_PERSISTED_OUT to the output folder');

const codegen: CodegenConfig = {
  overwrite: true,
  schema: '../../schema/*.graphqls',
  documents: '../../examples/operations/*.graphql',
  generates: {
    [`${out}/`]: {
      preset: 'client',
      presetConfig: { persistedDocuments: true, fragmentMasking: false },
      config: { scalars: { DateTime: 'string' } },
    },
  },
};

export default codegen;
