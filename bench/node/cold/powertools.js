// Cold start: the same read with @aws-lambda-powertools/parameters (cached getSecret).
// Its client takes the region from AWS_REGION, which the bench sets to the secret's region.
const { getSecret } = require('@aws-lambda-powertools/parameters/secrets')

process.on('exit', () => process.stdout.write(`rss_kb ${process.resourceUsage().maxRSS}\n`))
getSecret(process.env.STARFLEET_SECRET_ID, { transform: 'json' }).then((doc) => {
  const token = doc.STARFLEET.SlackToken
  process.stdout.write(`token_chars ${token.length}\n`)
})
