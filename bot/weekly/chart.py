"""The digest's chart: kudos per day as a PNG (matplotlib's Agg renderer, no display needed)."""

from __future__ import annotations

import io
from datetime import date, time

from matplotlib.figure import Figure


def kudos_per_day_png(days: list[date], counts: list[int], at: time, title: str) -> bytes:
    """One bar a day; each day runs from `at` (the digest's time) to `at` the next day."""
    figure = Figure(figsize=(8, 3), dpi=100)  # a Figure without pyplot renders with Agg and keeps no global state
    axes = figure.subplots()
    colours = ["#9fb8c8" if day.weekday() >= 5 else "#2f4858" for day in days]
    axes.bar(range(len(days)), counts, color=colours)
    mondays = [i for i, day in enumerate(days) if day.weekday() == 0]
    axes.set_xticks(mondays, [f"Mon {days[i].day} {days[i]:%b}" for i in mondays])
    axes.set_title(title)
    axes.set_xlabel(f"days from {at:%H:%M} to {at:%H:%M}")
    axes.spines[["top", "right"]].set_visible(False)
    axes.yaxis.get_major_locator().set_params(integer=True)
    # Fixed margins, and fast compression: a digest job draws one chart per team lead, and tight_layout
    # (a layout pass measuring every label) and zlib's default level took most of its time.
    figure.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.2)
    png = io.BytesIO()
    figure.savefig(png, format="png", pil_kwargs={"compress_level": 1})
    return png.getvalue()
