# What the cold-read worker (bench/python/cold/run_starfleet_secrets_package.py) does besides
# using the package: it is a main script file and checks the value it read. bench/overhead/run
# runs it beside `python -c pass`, so the package's own share of the worker's overhead can be
# told apart (bench/overhead/node-control.js is Node's).
SECRETS = {"STARFLEET": {"SlackToken": "xoxb-0000000000000-0000000000000"}}

token = SECRETS["STARFLEET"]["SlackToken"]
assert token.startswith("xoxb-")
