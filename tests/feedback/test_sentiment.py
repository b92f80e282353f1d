"""The lexicon sentiment scorer for German and English (no database)."""

from __future__ import annotations

import pytest

from stammkunde.feedback.sentiment import sentiment_score


@pytest.mark.parametrize(
    "text",
    [
        "Super Beratung, sehr freundlich und kompetent!",
        "Reparatur schnell und zuverlässig, danke.",
        "Great service, very helpful staff.",
        "I would recommend you to everyone.",
    ],
)
def test_praise_is_positive(text: str) -> None:
    assert sentiment_score(text) > 0.3


@pytest.mark.parametrize(
    "text",
    [
        "Total enttäuscht, drei Wochen gewartet und nie wieder.",
        "Unfreundlicher Mitarbeiter, das Rad war danach kaputt.",
        "Terrible experience, rude staff and the bike is still broken.",
        "Viel zu teuer und die Lieferung kam verspätet.",
    ],
)
def test_complaints_are_negative(text: str) -> None:
    assert sentiment_score(text) < -0.3


def test_negation_flips_and_damps() -> None:
    assert sentiment_score("gut") > 0 > sentiment_score("nicht gut")
    assert abs(sentiment_score("nicht gut")) < abs(sentiment_score("gut"))
    assert sentiment_score("not bad") > 0


def test_intensifier_strengthens() -> None:
    assert sentiment_score("sehr freundlich") > sentiment_score("freundlich") > 0


def test_short_stems_match_whole_words_only() -> None:
    # "gut" must not hit "Gutschein"
    assert sentiment_score("Gutschein eingelöst") == 0.0


def test_neutral_and_empty_texts_score_zero() -> None:
    assert sentiment_score("") == 0.0
    assert sentiment_score("Bitte Rechnung an die Firma schicken.") == 0.0


def test_score_stays_in_minus_one_to_one() -> None:
    assert -1 < sentiment_score("schlecht " * 200) < 0
    assert 0 < sentiment_score("super " * 200) < 1
