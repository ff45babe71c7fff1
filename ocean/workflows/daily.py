"""The daily chain a cron line calls: append the day to the cube, then forecast from it.

Both steps are idempotent, so rerunning a day (after a failure, or twice by
mistake) does only what is missing: an existing day in the cube is left
alone and an existing forecast is kept unless ``force``.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from ocean.workflows.forecast import ForecastRequest, ForecastResult, run_forecast

__all__ = ["run_daily"]

log = logging.getLogger(__name__)


def run_daily(recipe, date: str, forecast: ForecastRequest, wait: float = 0.0) -> tuple[object, ForecastResult]:
    """Append ``date`` to ``forecast.cube`` following ``recipe``, then forecast from that day."""
    from pipelines.append import append_day

    if forecast.cube is None:
        from ocean.errors import ConfigError

        raise ConfigError("ocean daily needs --cube: the cube the day is appended to and the forecast starts from")
    log.info("daily chain for %s: append to %s, then forecast", date, forecast.cube)
    appended = append_day(recipe, forecast.cube, date, wait=wait)
    log.info("%s", appended.summary())
    return appended, run_forecast(replace(forecast, init=date))
