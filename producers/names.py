"""Name keys and club-name matching: Transfermarkt writes a club's full name where the row
is about that club ("Tottenham Hotspur") and a short one where it is the other side ("Spurs").
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import lru_cache

# Words that say what kind of club it is, not which one.
_CLUB_NOISE = frozenset(
    "fc cf afc ac acf as ss ssc us sc cfc rc rcd ud cd sd sv fk club calcio de del la le the of".split()
)
# "Other sides" that are not clubs: never aliases of a club, never similar to one.
PLACEHOLDERS = frozenset({"without club", "retired", "career break", "unknown", "ban", "pause"})
ALIAS_MIN_VOTES = 2
ALIAS_MIN_SHARE = 0.75


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """A comparison key: accents stripped, case folded, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


# Letters NFKD does not decompose into a base letter and an accent.
_LETTERS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ð": "d", "đ": "d", "ł": "l", "ı": "i", "þ": "th"}
)


@lru_cache(maxsize=65536)
def person_words(name: str) -> tuple[str, ...]:
    """A person's name as comparison words, for matching two sources' spellings (not for ids):
    HTML entities decoded ("N&#039;Golo"), accents and special letters stripped ("Ødegaard"),
    apostrophes dropped ("N'Soki" = "Nsoki"), hyphens and dots split words ("Bella-Kotchap")."""
    text = fold(html.unescape(name)).translate(_LETTERS)
    text = re.sub(r"['\u2019`´]", "", text)
    return tuple(re.findall(r"[a-z0-9]+", text))


@lru_cache(maxsize=65536)
def _tokens(name: str) -> tuple[str, ...]:
    words = tuple(re.findall(r"[a-z0-9]+", fold(name)))
    kept = tuple(w for w in words if w not in _CLUB_NOISE)
    return kept or words


def _subsequence(short: str, word: str) -> bool:
    letters = iter(word)
    return short[0] == word[0] and all(ch in letters for ch in short)


def _token_matches(token: str, words: tuple[str, ...]) -> bool:
    if any(word.startswith(token) or (len(token) >= 2 and _subsequence(token, word)) for word in words):
        return True
    # Initials of consecutive words: "qpr" for queens park rangers, "sg" for saint germain.
    return len(token) >= 2 and any(
        "".join(word[0] for word in words[i : i + len(token)]) == token for i in range(len(words))
    )


@lru_cache(maxsize=262144)
def looks_like(short: str, full: str) -> bool:
    """Whether ``short`` plausibly names the club ``full`` ("Bor. Dortmund", "Borussia Dortmund")."""
    if fold(short) in PLACEHOLDERS or fold(full) in PLACEHOLDERS:
        return False
    if fold(short) == fold(full):
        return True
    words = _tokens(full)
    tokens = _tokens(short)
    return bool(tokens) and all(_token_matches(token, words) for token in tokens)


class ClubAliases:
    """Short name -> full name, learned from the two rows of transfers that were matched."""

    def __init__(self) -> None:
        self._votes: dict[str, Counter[str]] = defaultdict(Counter)
        self._alias: dict[str, str] = {}

    def vote(self, short: str, full: str) -> None:
        """One matched transfer says that ``short`` is the other side's name for ``full``."""
        if fold(short) != fold(full) and fold(short) not in PLACEHOLDERS:
            self._votes[fold(short)][full] += 1

    def settle(self) -> None:
        """Keep the aliases that enough votes agree on (a short name shared by two clubs has none)."""
        self._alias = {}
        for short, votes in self._votes.items():
            (full, count), total = votes.most_common(1)[0], sum(votes.values())
            if count >= ALIAS_MIN_VOTES and count >= ALIAS_MIN_SHARE * total:
                self._alias[short] = full

    def same(self, short: str, full: str) -> bool:
        """Whether ``short`` names ``full``: a learned alias, or the names look alike."""
        return self._alias.get(fold(short)) == full or looks_like(short, full)

    def canonical(self, name: str) -> str:
        """The full name for a short one when an alias is known, else the name itself."""
        return self._alias.get(fold(name), name)

    def __len__(self) -> int:
        return len(self._alias)

    def items(self) -> Iterable[tuple[str, str]]:
        return self._alias.items()
