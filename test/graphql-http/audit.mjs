// GraphQL over HTTP conformance: runs graphql-http's server audits against the gateway at
// LCW_URL and prints one line per audit and the counts. Exits 1 when a MUST audit fails; SHOULD
// (warn) and MAY (notice) findings are listed with the choice we made in docs/graphql-over-http.md.
import { serverAudits } from 'graphql-http';

const base = process.env.LCW_URL;
if (!base) {
  console.error('LCW_URL is not set (http://127.0.0.1:PORT of a running gateway)');
  process.exit(2);
}
const url = `${base}/graphql`;

const counts = { ok: 0, warn: 0, notice: 0, error: 0 };
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  counts[result.status]++;
  let line = `${result.status.padEnd(6)} ${result.id} ${result.name}`;
  if (result.status !== 'ok') {
    const body = await result.response.text().catch(() => '');
    line += `\n         ${result.reason}; status ${result.response.status}; body ${body.slice(0, 200)}`;
  }
  console.log(line);
}
console.log(
  `\ngraphql-http ${(await import('graphql-http/package.json', { with: { type: 'json' } })).default.version} ` +
    `server audits: ${counts.ok} pass, ${counts.warn} warn (SHOULD), ${counts.notice} notice (MAY), ` +
    `${counts.error} fail (MUST)`,
);
process.exit(counts.error > 0 ? 1 : 0);
