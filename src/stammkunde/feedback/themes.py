"""Themes in free-text answers and ticket messages (German and English).

TF-IDF on word uni- and bigrams with German and English stop words, then NMF
(non-negative matrix factorisation, scikit-learn): each component is a theme
described by its top terms; each text belongs to the theme with the largest
weight (texts with no weight on any theme stay unassigned). No external
service, no model download. Django-free.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from .sentiment import sentiment_scores

GERMAN_STOP_WORDS = frozenset(
    """
    aber alle allem allen aller alles als also am an ander andere anderen auch auf aus bei
    beim bin bis bisschen bist da dabei damit dann das dass dem den denn der des dich die dies
    diese diesem diesen dieser dieses dir doch dort du durch ein eine einem einen einer eines
    einfach er es etwas euch euer für gab gibt ganz gar gewesen habe haben hat hatte hätte
    hier hin ich ihm ihn ihnen ihr im immer in ins ist ja jetzt kam kann konnte könnte man
    mal mehr mein meine meinem meinen meiner mich mir mit muss musste nach nachdem noch nun
    nur ob oder ohne schon sehr sein seine sich sie sind so soll sollte sonst über um und uns
    unser unsere unter viel vom von vor war waren wäre was weil wenn wer wie wieder wir wird
    wo wurde wurden zu zum zur zwar wirklich echt leider bitte danke vielen dank herr frau
    """.split()
)
STOP_WORDS = sorted(GERMAN_STOP_WORDS | set(ENGLISH_STOP_WORDS))

# A small bilingual glossary of the shop's domain: English words and German
# inflections map to one German term, so that "delivery late" and "Lieferung
# verspätet" land in the same theme (TF-IDF alone cannot bridge languages).
# Tunable per business; see docs/feedback.md.
GLOSSARY: dict[str, str] = {
    **dict.fromkeys(
        "delivery delivered shipping shipment lieferungen geliefert".split(), "lieferung"
    ),
    **dict.fromkeys("parcel package pakete".split(), "paket"),
    **dict.fromkeys("late verspätet verspätung delayed delay".split(), "spät"),
    **dict.fromkeys("damaged beschädigte beschädigten".split(), "beschädigt"),
    **dict.fromkeys("workshop werkstatttermin".split(), "werkstatt"),
    **dict.fromkeys("repair repaired repairs reparaturen repariert".split(), "reparatur"),
    **dict.fromkeys("brake brakes bremsen".split(), "bremse"),
    **dict.fromkeys("staff employee employees mitarbeiterin mitarbeitern".split(), "mitarbeiter"),
    **dict.fromkeys("advice consultation beratungen".split(), "beratung"),
    **dict.fromkeys("friendly freundliche freundlichen".split(), "freundlich"),
    **dict.fromkeys("competent kompetente kompetenten".split(), "kompetent"),
    **dict.fromkeys("price prices expensive preise teure".split(), "preis"),
    **dict.fromkeys("shop store filiale".split(), "laden"),
    **dict.fromkeys("bike bicycle bikes fahrräder rad".split(), "fahrrad"),
    **dict.fromkeys("appointment appointments termine".split(), "termin"),
    **dict.fromkeys("invoice rechnungen".split(), "rechnung"),
    **dict.fromkeys("refund refunds erstattet rückerstattung".split(), "erstattung"),
    **dict.fromkeys("return returns retoure retouren zurückgeschickt".split(), "rückgabe"),
    **dict.fromkeys("waited waiting wait gewartet wartezeit".split(), "warten"),
    **dict.fromkeys("weeks wochen".split(), "woche"),
}
_WORD = re.compile(r"(?u)\b[^\W\d_]+\b")


def normalise(text: str) -> str:
    """Lower-case and map glossary words to their German term."""
    return _WORD.sub(lambda m: GLOSSARY.get(m.group(0), m.group(0)), text.lower())


@dataclass(frozen=True)
class Theme:
    """One theme: top terms, how many texts, mean sentiment and example texts."""

    index: int
    terms: list[str]
    size: int
    share: float
    sentiment: float
    examples: list[str] = field(default_factory=list)
    members: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        return ", ".join(self.terms[:3])


@dataclass
class ThemeModel:
    """``fit(texts)`` → ``themes_`` and ``labels_`` (theme index per text, −1 unassigned).

    Parameters follow scikit-learn's convention: set in ``__init__``, results
    in attributes ending with ``_`` after ``fit``.
    """

    n_themes: int = 8
    n_terms: int = 8
    n_examples: int = 3
    min_df: int = 3
    max_df: float = 0.5
    random_state: int = 0
    themes_: list[Theme] = field(default_factory=list, init=False)
    labels_: np.ndarray = field(default_factory=lambda: np.empty(0, int), init=False)

    def fit(self, texts: Sequence[str]) -> ThemeModel:
        texts = [t or "" for t in texts]
        self.themes_, self.labels_ = [], np.full(len(texts), -1)
        if len(texts) < max(self.n_themes, self.min_df):
            return self
        vectorizer = TfidfVectorizer(
            lowercase=True,
            preprocessor=normalise,
            stop_words=STOP_WORDS,
            token_pattern=r"(?u)\b[^\W\d_]{3,}\b",
            ngram_range=(1, 2),
            min_df=self.min_df,
            max_df=self.max_df,
            sublinear_tf=True,
        )
        try:
            matrix = vectorizer.fit_transform(texts)
        except ValueError:  # nothing left after stop words / min_df
            return self
        k = min(self.n_themes, matrix.shape[1], matrix.shape[0])
        if k < 1:
            return self
        nmf = NMF(n_components=k, init="nndsvda", random_state=self.random_state, max_iter=400)
        weights = nmf.fit_transform(matrix)
        terms = vectorizer.get_feature_names_out()
        labels = np.where(weights.max(axis=1) > 1e-6, weights.argmax(axis=1), -1)
        sentiments = sentiment_scores(texts)
        themes = []
        for j in range(k):
            members = np.flatnonzero(labels == j)
            top = np.argsort(nmf.components_[j])[::-1][: self.n_terms]
            best = members[np.argsort(weights[members, j])[::-1]][: self.n_examples]
            themes.append(
                Theme(
                    index=j,
                    terms=[str(terms[i]) for i in top],
                    size=int(members.size),
                    share=float(members.size / len(texts)),
                    sentiment=float(sentiments[members].mean()) if members.size else 0.0,
                    examples=[texts[i] for i in best],
                    members=[int(i) for i in members],
                )
            )
        self.themes_ = sorted(themes, key=lambda t: -t.size)
        self.labels_ = labels
        return self


def themes_extract(
    texts: Sequence[str], *, n_themes: int = 8, random_state: int = 0
) -> list[Theme]:
    """Return the themes of ``texts``, largest first."""
    return ThemeModel(n_themes=n_themes, random_state=random_state).fit(texts).themes_
