// Reference: a node process that only loads starfleet-secrets (the addon's fixed cost).
// Required by name, as bench/node/cold/starfleet-secrets.js is (it says why).
require('starfleet-secrets')

process.on('exit', () => process.stdout.write(`rss_kb ${process.resourceUsage().maxRSS}\n`))
process.stdout.write('token_chars 0\n')
