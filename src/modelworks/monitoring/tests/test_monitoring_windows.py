"""Only windows that hold logged rows are computed: a batch-scoring log dated by its data's own time
(months or years ago) does not make a monitor compute every empty window up to today."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modelworks.core.models import Project, User
from modelworks.monitoring import services
from modelworks.monitoring.models import MonitorPoint
from modelworks.monitoring.tests.helpers import make_world, write_day

pytestmark = pytest.mark.django_db
pytest_plugins = ["modelworks.core.testing.fixtures"]


def test_windows_without_rows_are_skipped(project: Project, bob: User) -> None:
    world = make_world(project, bob)
    write_day(world, datetime(2013, 7, 3, tzinfo=UTC), shift=0.0, cities=["Lyon", "Paris"], seed=1)
    write_day(world, datetime(2013, 9, 20, tzinfo=UTC), shift=5.0, cities=["Lyon", "Paris"], seed=2)
    monitor = services.create_monitor(
        world.project, actor=bob, name="Old data", deployment=world.deployment, window="month"
    )
    result = services.compute_monitor(monitor, now=datetime(2026, 11, 27, tzinfo=UTC))
    assert result.windows == 2  # July and September 2013; not August, nor any month since
    starts = set(MonitorPoint.objects.filter(monitor=monitor).values_list("window_start", flat=True))
    assert sorted(s.strftime("%Y-%m") for s in starts) == ["2013-07", "2013-09"]
    # Nothing new: a second run computes nothing, and the finished windows are kept.
    again = services.compute_monitor(monitor, now=datetime(2026, 11, 28, tzinfo=UTC))
    assert again.windows == 0 and MonitorPoint.objects.filter(monitor=monitor).count() > 0


def test_p_value_tests_are_charted_and_told_by_their_p_value(project: Project, bob: User) -> None:
    from modelworks.monitoring.models import Metric
    from modelworks.monitoring.services.alerts import alert_message
    from modelworks.monitoring.views.monitors import _series

    world = make_world(project, bob)
    monitor = services.create_monitor(world.project, actor=bob, name="Small", deployment=world.deployment)
    start = datetime(2024, 3, 4, tzinfo=UTC)
    ks = MonitorPoint(
        monitor=monitor,
        window_start=start,
        window_end=start,
        metric=Metric.DATA_DRIFT,
        feature="city",
        test="chisquare",
        value=None,  # an infinite statistic (a category the reference never had) is stored as null
        p_value=0.0,
        threshold=0.05,
        breached=True,
    )
    assert _series([ks]) == [(start, 0.0, 0.05, True)]
    message = alert_message(monitor, ks)
    assert "Input 'city' drifted (chisquare p-value = 0, drift below 0.05)" in message
    distance = MonitorPoint(
        monitor=monitor,
        window_start=start,
        window_end=start,
        metric=Metric.DATA_DRIFT,
        feature="x",
        test="wasserstein",
        value=0.31,
        threshold=0.1,
        breached=True,
    )
    assert _series([distance]) == [(start, 0.31, 0.1, True)]
