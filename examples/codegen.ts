// TypeScript types for the dashboard operations, generated twice: from the committed schema files,
// and (when LCW_GRAPHQL_URL names a running gateway's /graphql) from its live introspection.
// The same code must compile against both (see tsconfig*.json and .ci/codegen.sh).
//
// Per source: schema.ts (`typescript`: every schema type) and operations.ts
// (`typescript-operations`: the operations' results and variables). typescript-operations v6 re-emits
// the enums and inputs it uses, so in one file with `typescript` they clash (TS2300); split, it
// imports them from schema.ts instead.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config = {
  // DateTime is RFC 3339 text on the wire; a client parses it when it needs a Date.
  scalars: { DateTime: 'string' },
  strictScalars: true,
  // String unions match Graph's wire values, so types can be shared with Graph REST clients.
  enumsAsTypes: true,
};

function target(dir: string, schema: string): CodegenConfig['generates'] {
  return {
    [`${dir}/schema.ts`]: { schema, plugins: ['typescript'], config },
    [`${dir}/operations.ts`]: {
      schema,
      documents: 'operations/*.graphql',
      plugins: ['typescript-operations'],
      config: { ...config, importSchemaTypesFrom: `./${dir}/schema.ts` },
    },
  };
}

const live = process.env.LCW_GRAPHQL_URL;

const codegen: CodegenConfig = {
  overwrite: true,
  generates: {
    ...target('generated/sdl', '../schema/*.graphqls'),
    ...(live ? target('generated/live', live) : {}),
  },
};

export default codegen;
