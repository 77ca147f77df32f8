// ESM entry point: the same module instance as `require('starfleet-secrets')`.
import cjs from './index.js'

export const { SECRETS_MANAGER, SecretsManager, StarfleetSecretsError, codes, coreVersion } = cjs
export default cjs
