# Powertools for AWS Lambda: parameters.get_secret (region from AWS_REGION, as on Lambda).
import os

from aws_lambda_powertools.utilities import parameters

token = parameters.get_secret(os.environ["STARFLEET_SECRET_ID"], transform="json")["STARFLEET"]["SlackToken"]
assert token.startswith("xoxb-")
