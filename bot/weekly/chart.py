"""The digest's chart: kudos per day as a PNG (matplotlib's Agg renderer, no display needed)."""

from __future__ import annotations

import io
from datetime import date, time

from bot.core.imports import load_when_used

matplotlib_figure = load_when_used("matplotlib.figure")  # only a digest draws: other commands start without it


class KudosPerDayChart:
    """One bar a day; each day runs from `at` (the digest's time) to `at` the next day.

    A digest job draws a chart for every team lead over the same days: one figure is made for the job
    and drawn again for each, only its bars and title changing (the days, ticks and labels stay laid out).
    """

    def __init__(self, days: list[date], at: time):
        # A Figure without pyplot renders with Agg and keeps no global state.
        self.figure = matplotlib_figure.Figure(figsize=(8, 3), dpi=100)
        self.axes = self.figure.subplots()
        colours = ["#9fb8c8" if day.weekday() >= 5 else "#2f4858" for day in days]
        self.bars = self.axes.bar(range(len(days)), [0] * len(days), color=colours)
        mondays = [i for i, day in enumerate(days) if day.weekday() == 0]
        self.axes.set_xticks(mondays, [f"Mon {days[i].day} {days[i]:%b}" for i in mondays])
        self.axes.set_xlabel(f"days from {at:%H:%M} to {at:%H:%M}")
        self.axes.spines[["top", "right"]].set_visible(False)
        self.axes.yaxis.get_major_locator().set_params(integer=True)
        # Fixed margins, not tight_layout (a layout pass measuring every label on each chart).
        self.figure.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.2)

    def png(self, counts: list[int], title: str) -> bytes:
        for bar, count in zip(self.bars, counts, strict=True):
            bar.set_height(count)
        self.axes.set_ylim(0, max(max(counts), 1) * 1.05)
        self.axes.set_title(title)
        png = io.BytesIO()
        self.figure.savefig(png, format="png", pil_kwargs={"compress_level": 1})  # fast: one PNG per lead
        return png.getvalue()
