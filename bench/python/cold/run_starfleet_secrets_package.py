# This package: the one-import change in a Starfleet worker.
from starfleet_secrets import SECRETS_MANAGER

token = SECRETS_MANAGER.secrets["STARFLEET"]["SlackToken"]
assert token.startswith("xoxb-")
