// The types generated from schema/*.graphqls and from live introspection must be the same.
// Doc comments are left out: codegen drops a scalar's description when it reads introspection,
// and descriptions are compared by graph/sdl_test.go already.
import { readdir, readFile } from 'node:fs/promises';

const strip = (text) => text.replace(/\/\*\*[\s\S]*?\*\//g, '').split('\n')
  .map((l) => l.trimEnd()).filter((l) => l.trim() !== '');

let failed = false;
const dir = new URL('./generated/', import.meta.url);
for (const file of await readdir(new URL('sdl/', dir))) {
  const sdl = strip(await readFile(new URL(`sdl/${file}`, dir), 'utf8'));
  const live = strip(await readFile(new URL(`live/${file}`, dir), 'utf8'));
  const i = sdl.findIndex((line, k) => line !== live[k]);
  if (i === -1 && sdl.length === live.length) {
    console.log(`${file}: same types from the schema files and from live introspection`);
    continue;
  }
  failed = true;
  const at = i === -1 ? Math.min(sdl.length, live.length) : i;
  console.error(`${file} differs at line ${at + 1} (comments left out):\n  schema files: ${sdl[at]}\n  live:         ${live[at]}`);
}
process.exit(failed ? 1 : 0);
