"""Patrol's check library: result vocabulary, check contract, thresholds, registry and the checks.

It knows nothing of agents or collectors; both import it.
"""

from checks.result import RESULT_SCHEMA, Metric, Result, ThresholdSpec
from checks.status import Status

__all__ = ["Status", "Metric", "Result", "ThresholdSpec", "RESULT_SCHEMA"]
