from checks.base import CheckContext
from checks.rates import RateTracker
from checks.secrets import Scrubber
from checks.target import Target

PASSWORD = "s3cret-Pw-42"


def run(check, variables, params=None, rates=None, scrubber=None):
    ctx = CheckContext(target=Target("app1", variables), rates=rates or RateTracker(), scrubber=scrubber or Scrubber())
    return check.execute(ctx, check.validate(params or {}))


def creds(prefix, url, env="MW_TEST_PW"):
    return {f"{prefix}_url": url, f"{prefix}_user": "monitor", f"{prefix}_password": {"env": env}}
