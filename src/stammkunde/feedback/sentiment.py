"""A small lexicon-based sentiment scorer for German and English customer texts.

Why our own: no external service and no model download; survey comments and
ticket messages use a narrow vocabulary (delivery, repair, price, staff), so a
hand-kept lexicon with negation and intensifiers is transparent and good
enough as a *signal* (analytics combines it with scores and behaviour).

Rules (documented in docs/feedback.md):

* Words are lower-cased, umlauts kept; a token matches a lexicon entry when it
  equals the entry or starts with it (German inflection: "unfreundlich",
  "unfreundliche", "unfreundlichen").
* Each hit contributes its weight (−3..+3). A negator ("nicht", "kein*",
  "not", "no", "never", "n't") up to three tokens before flips and damps the
  weight (× −0.5); an intensifier ("sehr", "total", "very", "extremely") just
  before multiplies it by 1.5.
* The score is ``sum / sqrt(sum² + 15)`` (the VADER normalisation), so it lies
  in (−1, 1), 0 for texts without sentiment words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import lru_cache

import numpy as np

# weight by stem (German and English side by side), "stem weight" pairs; a stem of two
# words ("nie wieder") matches a token pair. Kept as text so that it reads like a list.
_LEXICON_TEXT = """
super 2.5 | toll 2.5 | klasse 2.5 | prima 2 | spitze 2.5 | perfekt 3 | hervorragend 3
ausgezeichnet 3 | exzellent 3 | gut 1.5 | besten 2 | zufrieden 2 | begeistert 3
freundlich 2 | kompetent 2 | hilfsbereit 2 | schnell 1.5 | zuverlässig 2 | empfehle 2.5
empfehlen 2 | danke 1.5 | dank 1 | gerne 1 | gern 1 | kulant 2 | fair 1.5 | top 2.5
reibungslos 2 | unkompliziert 2 | sauber 1.5 | pünktlich 1.5 | geduldig 1.5
professionell 2 | lieb 1.5 | wunderbar 3 | genial 3 | freue 1.5 | glücklich 2.5
zügig 1.5 | preiswert 1.5
schlecht -2.5 | schlimm -2.5 | katastroph -3 | enttäusch -2.5 | unzufrieden -2.5
unfreundlich -2.5 | ärger -2 | ärgerlich -2.5 | frech -2.5 | langsam -1.5 | teuer -1.5
überteuert -2.5 | kaputt -2 | defekt -2 | mangelhaft -2.5 | mies -2.5 | nie wieder -3
unverschämt -3 | wartezeit -1 | gewartet -1 | warten -1 | verspät -1.5 | problem -1.5
beschwer -2 | reklamation -1 | unmöglich -2.5 | inkompetent -3 | chaos -2.5
chaotisch -2.5 | ignoriert -2.5 | umständlich -1.5 | nervig -2 | fehler -1.5
falsch -1.5 | kündig -2 | wechsel -1 | abzocke -3 | lieblos -2 | unhöflich -2.5
unerreichbar -2.5 | verärgert -2.5 | schade -1.5 | leider -1 | spät -1.5 | ewig -1.5
beschädigt -2 | abgelehnt -2 | zu hoch -1.5 | erst nach -1 | gedauert -0.5
guter 1.5 | gute 1.5 | guten 1.5 | gutes 1.5 | fairer 1.5 | faire 1.5
great 2.5 | excellent 3 | perfect 3 | good 1.5 | nice 1.5 | friendly 2 | helpful 2
fast 1.5 | quick 1.5 | love 3 | awesome 3 | amazing 3 | happy 2 | satisfied 2
recommend 2.5 | thank 1.5 | reliable 2 | competent 2 | professional 2 | smooth 1.5
easy 1.5 | polite 1.5 | best 2 | wonderful 3
bad -2.5 | terrible -3 | awful -3 | horrible -3 | poor -2 | disappoint -2.5
unhappy -2.5 | rude -2.5 | slow -1.5 | expensive -1.5 | overpriced -2.5 | broken -2
defective -2 | waited -1 | waiting -1 | late -1.5 | delay -1.5 | complain -2
useless -2.5 | ignored -2.5 | annoy -2 | wrong -1.5 | worst -3 | never again -3
cancel -1.5 | unreachable -2.5 | frustrat -2.5 | angry -2.5 | unfortunately -1
damaged -2 | refused -2 | died -2 | took ages -2 | too high -1.5 | right away 1.5
"""


def _lexicon_parse(text: str) -> dict[str, float]:
    entries: dict[str, float] = {}
    for item in text.replace("\n", "|").split("|"):
        if item.strip():
            stem, weight = item.strip().rsplit(" ", 1)
            entries[stem] = float(weight)
    return entries


LEXICON: dict[str, float] = _lexicon_parse(_LEXICON_TEXT)
NEGATORS = frozenset(
    "nicht kein keine keinen keinem keiner nie niemals ohne nichts "
    "not no never without nothing dont didnt wasnt isnt".split()
)
INTENSIFIERS = {
    **dict.fromkeys("sehr total absolut very absolutely totally".split(), 1.5),
    **dict.fromkeys("extrem äußerst extremely".split(), 1.6),
    **dict.fromkeys("wirklich echt besonders really".split(), 1.3),
    "super": 1.4,
    "so": 1.2,
}
# Stems shorter than this must match a whole token ("gut" must not hit "gutschein").
_MIN_PREFIX = 5
_TOKEN = re.compile(r"[a-zäöüß]+(?:'t)?")
_NORMALISER = 15.0


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens; "don't" becomes "dont" so that it negates."""
    return [t.replace("'", "") for t in _TOKEN.findall(text.lower())]


@lru_cache(maxsize=50_000)
def _weight(token: str) -> float | None:
    if token in LEXICON:
        return LEXICON[token]
    # "gut" is a whole-word stem; the longest matching stem wins for the others.
    best: tuple[int, float] | None = None
    for stem, weight in LEXICON.items():
        if (
            len(stem) >= _MIN_PREFIX
            and " " not in stem
            and token.startswith(stem)
            and (best is None or len(stem) > best[0])
        ):
            best = (len(stem), weight)
    return best[1] if best else None


def sentiment_score(text: str) -> float:
    """Return the sentiment of ``text`` in (−1, 1); 0.0 when no sentiment word occurs."""
    tokens = tokenize(text or "")
    total = 0.0
    skip = 0
    for i, token in enumerate(tokens):
        if skip:
            skip -= 1
            continue
        pair = f"{token} {tokens[i + 1]}" if i + 1 < len(tokens) else ""
        weight = LEXICON.get(pair)
        if weight is not None:
            skip = 1
        else:
            if token in INTENSIFIERS and i + 1 < len(tokens) and _weight(tokens[i + 1]):
                continue  # the intensifier is applied to the next word
            weight = _weight(token)
            if weight is None:
                continue
        if i > 0 and tokens[i - 1] in INTENSIFIERS:
            weight *= INTENSIFIERS[tokens[i - 1]]
        if any(t in NEGATORS for t in tokens[max(0, i - 3) : i]):
            weight *= -0.5
        total += weight
    if total == 0:
        return 0.0
    return total / math.sqrt(total * total + _NORMALISER)


def sentiment_scores(texts: Iterable[str]) -> np.ndarray:
    """Vectorised convenience: one score per text."""
    return np.array([sentiment_score(t) for t in texts], dtype=float)
