# Shortcuts; the scripts are the source of truth (a fresh machine may have no make).
.PHONY: patrol test bench docs
patrol:
	./scripts/run-daily-patrol
test:
	./scripts/run-tests
bench:
	./scripts/bootstrap && .venv/bin/python bench/host_cycle.py
docs:
	.venv/bin/patrol checks reference > docs/checks.md
	.venv/bin/python -m checks.schema > docs/result.schema.json
