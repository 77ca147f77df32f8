# The floor under the Python worker: the same GetSecretValue, over HTTPS with verification
# against the same root bundle, by the smallest client the standard library has (one TLS
# handshake, one request, the JSON read), without SigV4 (moto does not check signatures).
# What the package costs over this row is its own; what this row costs over `python -c pass`
# is the handshake, the request and the server's answer. bench/overhead/run runs it;
# server_time.py sends the same request (URL, BODY, HEADERS).
import http.client
import json
import os
import ssl
from urllib.parse import urlsplit

URL = urlsplit(os.environ["AWS_ENDPOINT_URL_SECRETS_MANAGER"])
BODY = json.dumps({"SecretId": os.environ["STARFLEET_SECRET_ID"]})
HEADERS = {
    "Content-Type": "application/x-amz-json-1.1",
    "X-Amz-Target": "secretsmanager.GetSecretValue",
    "X-Amz-Date": "20260101T000000Z",
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDFLOOR/20260101/"
    + os.environ["STARFLEET_SECRET_REGION"]
    + "/secretsmanager/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature="
    + "0" * 64,
}

if __name__ == "__main__":
    context = ssl.create_default_context(cafile=os.environ["AWS_CA_BUNDLE"])
    connection = http.client.HTTPSConnection(URL.hostname, URL.port, context=context)
    connection.request("POST", "/", body=BODY, headers=HEADERS)
    answer = connection.getresponse()
    assert answer.status == 200, answer.status
    token = json.loads(json.loads(answer.read())["SecretString"])["STARFLEET"]["SlackToken"]
    assert token.startswith("xoxb-")
