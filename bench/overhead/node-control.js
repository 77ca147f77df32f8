// What the cold-read worker (bench/node/cold/starfleet-secrets.js) does besides using the
// package: it is a main script file, reads process.resourceUsage() at exit and writes two lines
// to stdout (whose first use loads node's stream modules). bench/overhead/node-addons and
// bench/overhead/run run it beside `node -e 0`, so the package's own share of the worker's
// overhead can be told apart.
process.on('exit', () => process.stdout.write(`rss_kb ${process.resourceUsage().maxRSS}\n`))
Promise.resolve('xoxb-0000000000000-0000000000000').then((token) => {
  process.stdout.write(`token_chars ${token.length}\n`)
})
