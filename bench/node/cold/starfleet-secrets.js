// Cold start: a whole worker process that reads STARFLEET.SlackToken with starfleet-secrets.
// The location comes from STARFLEET_SECRET_ID / STARFLEET_SECRET_REGION, as in a worker.
// BENCH_STARFLEET_PKG is the build under test, at <dir>/node_modules/starfleet-secrets; it is
// required by name from <dir>/node_modules, as a worker's own require('starfleet-secrets') is
// (Node reads its package.json and resolves it), not by its path, which skips that.
const { SECRETS_MANAGER } = require('node:module').createRequire(process.env.BENCH_STARFLEET_PKG)('starfleet-secrets')

process.on('exit', () => process.stdout.write(`rss_kb ${process.resourceUsage().maxRSS}\n`))
SECRETS_MANAGER.get('STARFLEET', 'SlackToken').then((token) => {
  process.stdout.write(`token_chars ${token.length}\n`)
})
