"""The collector's HTTP service (FastAPI): agent pushes, plans, agents, health and /metrics."""
