// graphql-codegen: typed operations from the server's schema, read from the repository's
// schema.graphql (no server needs to run; production answers no introspection anyway).
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: ["src/**/*.ts", "!src/gql/**"],
  // Imports with `.js`, as Node's ES modules (and tsconfig's NodeNext) need.
  emitLegacyCommonJSImports: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        // DateTime is an ISO 8601 string on the wire: say so, instead of `unknown`.
        scalars: { DateTime: "string" },
        strictScalars: true,
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
