// Reference: a node process that only loads starfleet-secrets (the addon's fixed cost).
require(process.env.BENCH_STARFLEET_PKG)

process.on('exit', () => process.stdout.write(`rss_kb ${process.resourceUsage().maxRSS}\n`))
process.stdout.write('token_chars 0\n')
