# Plain boto3 as Starfleet does it (starfleet/utils/secrets.py): a lazy singleton that calls
# GetSecretValue once and json.loads the SecretString.
import json
import os

import boto3


class SecretsManager:
    def __init__(self):
        self._secrets = {}

    def load_secrets(self):
        client = boto3.client("secretsmanager", region_name=os.environ["STARFLEET_SECRET_REGION"])
        value = client.get_secret_value(SecretId=os.environ["STARFLEET_SECRET_ID"])
        self._secrets = json.loads(value["SecretString"])

    @property
    def secrets(self):
        if not self._secrets:
            self.load_secrets()
        return self._secrets


SECRETS_MANAGER = SecretsManager()
token = SECRETS_MANAGER.secrets["STARFLEET"]["SlackToken"]
assert token.startswith("xoxb-")
