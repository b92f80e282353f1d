"""Theme extraction (TF-IDF + NMF) on a German/English corpus with planted topics."""

from __future__ import annotations

import random

from stammkunde.feedback.themes import ThemeModel, themes_extract

TOPICS = {
    "delivery": [
        "Die Lieferung kam zu spät", "Lieferung verspätet, Paket beschädigt",
        "delivery was late and the parcel damaged", "Paket kam eine Woche zu spät",
    ],
    "workshop": [
        "Reparatur in der Werkstatt dauerte drei Wochen", "Werkstatt Termin Reparatur Bremse",
        "the workshop repair took ages", "Werkstatt hat die Bremse gut repariert",
    ],
    "staff": [
        "Beratung im Laden sehr freundlich", "freundliche Beratung, kompetente Mitarbeiter",
        "friendly staff and good advice", "Mitarbeiter sehr kompetent in der Beratung",
    ],
}  # fmt: skip


def _corpus(n: int = 300, seed: int = 3) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, truth = [], []
    for _ in range(n):
        topic = rng.choice(list(TOPICS))
        texts.append(rng.choice(TOPICS[topic]) + rng.choice(["", ".", "!", " leider", " danke"]))
        truth.append(topic)
    return texts, truth


def test_planted_topics_are_found_with_their_terms() -> None:
    # given
    texts, truth = _corpus()
    # when
    model = ThemeModel(n_themes=3, min_df=2).fit(texts)
    # then: every theme is dominated by one planted topic (purity > 0.9)
    assert len(model.themes_) == 3
    found = set()
    for theme in model.themes_:
        topics = [truth[i] for i in theme.members]
        top = max(set(topics), key=topics.count)
        assert topics.count(top) / len(topics) > 0.9
        found.add(top)
        assert len(theme.examples) == 3
    assert found == set(TOPICS)


def test_themes_carry_the_sentiment_of_their_texts() -> None:
    texts, _truth = _corpus()
    themes = ThemeModel(n_themes=3, min_df=2).fit(texts).themes_
    staff = next(t for t in themes if any("beratung" in term for term in t.terms))
    assert staff.sentiment > 0


def test_stop_words_do_not_become_terms() -> None:
    texts, _truth = _corpus()
    terms = {term for t in themes_extract(texts, n_themes=3) for term in t.terms}
    assert not terms & {"die", "der", "und", "the", "and", "sehr"}


def test_too_few_texts_give_no_themes() -> None:
    assert themes_extract(["ein Text"], n_themes=3) == []
