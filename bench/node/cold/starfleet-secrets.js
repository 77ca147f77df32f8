// Cold start: a whole worker process that reads STARFLEET.SlackToken with starfleet-secrets.
// The location comes from STARFLEET_SECRET_ID / STARFLEET_SECRET_REGION, as in a worker.
const { SECRETS_MANAGER } = require(process.env.BENCH_STARFLEET_PKG)

process.on('exit', () => process.stdout.write(`rss_kb ${process.resourceUsage().maxRSS}\n`))
SECRETS_MANAGER.get('STARFLEET', 'SlackToken').then((token) => {
  process.stdout.write(`token_chars ${token.length}\n`)
})
