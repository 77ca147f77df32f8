// Reference: a node process that only loads starfleet-secrets (the addon's fixed cost).
// The build under test required by name (bench/node/cold/starfleet-secrets.js says why).
require('node:module').createRequire(process.env.BENCH_STARFLEET_PKG)('starfleet-secrets')

process.on('exit', () => process.stdout.write(`rss_kb ${process.resourceUsage().maxRSS}\n`))
process.stdout.write('token_chars 0\n')
