"""Where the e-mails to approvers, reviewers and requesters used to live; now ``modelworks.core.notify``.

Kept so that ``from modelworks.core import people_notify`` and ``people_notify.promotion_requested(…)``
go on working. New code imports ``modelworks.core.notify``.
"""

from __future__ import annotations

from modelworks.core.notify import (
    Notice,
    deliver,
    promotion_decided,
    promotion_requested,
    promotions_superseded,
    public_link,
    signoff_decided,
    signoff_reviews_waiting,
)

__all__ = [
    "Notice",
    "deliver",
    "promotion_decided",
    "promotion_requested",
    "promotions_superseded",
    "public_link",
    "signoff_decided",
    "signoff_reviews_waiting",
]
