"""Errors of the collector side, importable without its extras (the CLI reports them where SQLAlchemy is missing)."""


class StoreError(Exception):
    """The database cannot be opened or used; the message names the (masked) URL and the cause."""


class ReportFormatUnavailable(RuntimeError):
    """A report format whose library or system libraries are missing: the message says what to install."""
