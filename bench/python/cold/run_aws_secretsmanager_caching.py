# AWS's client-side cache (aws-secretsmanager-caching) with its documented setup.
import json
import os

import botocore.session
from aws_secretsmanager_caching import SecretCache, SecretCacheConfig

client = botocore.session.get_session().create_client(
    "secretsmanager", region_name=os.environ["STARFLEET_SECRET_REGION"]
)
cache = SecretCache(config=SecretCacheConfig(), client=client)
token = json.loads(cache.get_secret_string(os.environ["STARFLEET_SECRET_ID"]))["STARFLEET"]["SlackToken"]
assert token.startswith("xoxb-")
