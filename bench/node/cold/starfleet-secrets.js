// Cold start: a whole worker process that reads STARFLEET.SlackToken with starfleet-secrets.
// The location comes from STARFLEET_SECRET_ID / STARFLEET_SECRET_REGION, as in a worker.
// The package is required by name from the node_modules beside this file's folder, as a Lambda
// handler (/var/task/index.js) requires it from /var/task/node_modules: Node resolves the name
// and reads the package's package.json, as for a user. Not by its path, which skips that, nor
// through createRequire(), which no worker calls. bench/node runs it where
// it is, beside the comparison packages; bench/overhead's runners copy it beside each build's
// node_modules and run the copy.
const { SECRETS_MANAGER } = require('starfleet-secrets')

process.on('exit', () => process.stdout.write(`rss_kb ${process.resourceUsage().maxRSS}\n`))
SECRETS_MANAGER.get('STARFLEET', 'SlackToken').then((token) => {
  process.stdout.write(`token_chars ${token.length}\n`)
})
