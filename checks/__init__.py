"""Patrol's check library: result vocabulary, check contract, thresholds, registry and the checks.

It knows nothing of agents or collectors; both import it.
"""
from checks.status import Status
from checks.result import Metric, Result, ThresholdSpec, RESULT_SCHEMA

__all__ = ["Status", "Metric", "Result", "ThresholdSpec", "RESULT_SCHEMA"]
