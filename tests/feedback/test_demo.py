"""The feedback demo: surveys with answers whose scores follow the demo's truth."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from stammkunde.demo.generator import demo_generate
from stammkunde.demo.models import CustomerTruth
from stammkunde.feedback.demo import feedback_demo_generate, planted_theme
from stammkunde.feedback.models import Answer, Response, Survey

pytestmark = pytest.mark.django_db
END = datetime(2026, 6, 30, 23, 59, tzinfo=UTC)


@pytest.fixture
def shop(db) -> None:
    demo_generate(customers=800, seed=3, end=END)


def test_demo_surveys_have_answers_and_churners_answer_worse(shop) -> None:
    # when
    result = feedback_demo_generate(seed=3, end=END)
    # then
    assert result.responses > 50
    assert Survey.objects.filter(current_version__isnull=False).count() == 2
    churned = set(
        CustomerTruth.objects.filter(dropped_out_at__isnull=False).values_list(
            "customer_id", flat=True
        )
    )
    rows = list(Response.objects.exclude(nps=None).values_list("customer_id", "nps", "sentiment"))
    nps_churned = [n for c, n, _ in rows if c in churned]
    nps_stayed = [n for c, n, _ in rows if c not in churned]
    assert np.mean(nps_churned) < np.mean(nps_stayed) - 1
    sent_churned = [s for c, _, s in rows if c in churned and s is not None]
    sent_stayed = [s for c, _, s in rows if c not in churned and s is not None]
    assert np.mean(sent_churned) < np.mean(sent_stayed)


def test_demo_comments_carry_a_planted_theme_in_german_or_english(shop) -> None:
    feedback_demo_generate(seed=3, end=END)
    texts = list(Answer.objects.exclude(text="").values_list("text", flat=True))
    assert texts and all(planted_theme(t) for t in texts)


def test_demo_is_idempotent(shop) -> None:
    feedback_demo_generate(seed=3, end=END)
    count = Response.objects.count()
    assert feedback_demo_generate(seed=3, end=END).responses == 0
    assert Response.objects.count() == count


def test_demo_invitation_keys_are_192_random_bits_like_live_ones(shop) -> None:
    # tokens.py promises 24 random bytes; the demo once wrote 16 bytes from its seeded generator.
    import base64
    import re

    from stammkunde.feedback.models import Invitation

    feedback_demo_generate(seed=3, end=END)
    keys = list(Invitation.objects.values_list("key", flat=True))
    assert keys
    assert all(len(base64.urlsafe_b64decode(k + "=" * (-len(k) % 4))) == 24 for k in keys)
    # 32 hex digits would decode to 24 bytes too, but carry only 128 bits
    assert not any(re.fullmatch(r"[0-9a-f]{32}", k) for k in keys)
