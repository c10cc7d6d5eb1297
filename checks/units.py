"""Figures for humans: a value with its unit, sizes in binary units."""

from __future__ import annotations


def format_value(value: float, unit: str = "") -> str:
    """Readable figure with its unit: 85.3%, 12.1 GiB, 0.004 s, 0.31, 3."""
    if unit == "B":
        return format_bytes(value)
    if unit == "B/s":
        return format_bytes(value) + "/s"
    if float(value).is_integer():
        number = str(int(value))
    elif abs(value) >= 10:
        number = f"{value:.1f}"
    else:
        number = f"{value:.3g}"  # small figures (load per CPU, seconds) keep their significant digits
    if unit in ("%", "/s"):
        return number + unit
    if unit == "C":
        return f"{number} °C"
    return f"{number} {unit}".rstrip()


def format_bytes(value: float) -> str:
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(size) < 1024 or unit == "PiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
