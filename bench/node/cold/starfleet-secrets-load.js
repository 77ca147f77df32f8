// Reference: a node process that only loads starfleet-secrets (the addon's fixed cost).
// BENCH_STARFLEET_PKG is the build under test, at <dir>/node_modules/starfleet-secrets; it is
// required by name from <dir>/node_modules, as a worker's own require('starfleet-secrets') is
// (Node reads its package.json and resolves it), not by its path, which skips that.
require('node:module').createRequire(process.env.BENCH_STARFLEET_PKG)('starfleet-secrets')

process.on('exit', () => process.stdout.write(`rss_kb ${process.resourceUsage().maxRSS}\n`))
process.stdout.write('token_chars 0\n')
