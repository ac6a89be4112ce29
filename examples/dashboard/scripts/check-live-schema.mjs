// The typed documents generated from schema/*.graphqls (src/gql/) and from a running gateway's
// introspection (src/gql-live/, written by `LCW_GRAPHQL_URL=... npm run codegen`) must be the same.
// Doc comments are left out: codegen drops a scalar's description when it reads introspection,
// and descriptions are compared by graph/sdl_test.go already.
import { readdir, readFile } from 'node:fs/promises';

const strip = (text) => text.replace(/\/\*\*[\s\S]*?\*\//g, '').split('\n')
  .map((l) => l.trimEnd()).filter((l) => l.trim() !== '');

const dir = new URL('../src/', import.meta.url);
const files = await readdir(new URL('gql-live/', dir)).catch(() => {
  console.error('src/gql-live/ is missing: run LCW_GRAPHQL_URL=http://127.0.0.1:8080/graphql npm run codegen first');
  process.exit(1);
});
let failed = false;
for (const file of (await readdir(new URL('gql/', dir))).sort()) {
  const sdl = strip(await readFile(new URL(`gql/${file}`, dir), 'utf8'));
  const live = files.includes(file) ? strip(await readFile(new URL(`gql-live/${file}`, dir), 'utf8')) : [];
  const i = sdl.findIndex((line, k) => line !== live[k]);
  if (i === -1 && sdl.length === live.length) {
    console.log(`${file}: the same from the schema files and from live introspection`);
    continue;
  }
  failed = true;
  const at = i === -1 ? Math.min(sdl.length, live.length) : i;
  console.error(`${file} differs at line ${at + 1} (comments left out):\n  schema files: ${sdl[at]}\n  live:         ${live[at]}`);
}
process.exit(failed ? 1 : 0);
