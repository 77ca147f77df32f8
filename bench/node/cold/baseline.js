// Reference: a node process that does nothing (the floor every variant pays).
process.on('exit', () => process.stdout.write(`rss_kb ${process.resourceUsage().maxRSS}\n`))
process.stdout.write('token_chars 0\n')
