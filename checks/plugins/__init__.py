"""Checks that run programs written for other monitoring systems (Nagios-compatible plugins)."""
