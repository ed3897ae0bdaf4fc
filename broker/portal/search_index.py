"""The school picker's search index: built once per list of schools, so a search touches the
few schools that can match, not every school of a national federation.

What a search finds (the picker's promise, docs/architecture.md): every typed word, folded
(case, accents, "st."/"st" for "sint"), is part of a word of the school's name, place or id;
in the registry's order (by name). Only when no school has every word: the schools where each
typed word is within a typo or two of the start of one of their words (0 edits when it is
part of one), the fewest edits first.

How: the distinct words of all schools (the vocabulary) are kept sorted, with for each the
schools that have it; a trigram index of the vocabulary finds the words containing a typed
word; the typo search walks the sorted vocabulary like a trie, sharing the edit-distance
columns of a common prefix and skipping every word under a prefix already too far off.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import logging
import re
import threading
import unicodedata
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Generic, NamedTuple, Protocol, TypeVar

if TYPE_CHECKING:
    from broker.registry import Registry

log = logging.getLogger("loper.picker")

MAX_MATCHES = 50
MERGE_UP_TO = 256
"""A typed word part of more words than this: the schools are read in order, not merged."""

ABBREVIATIONS = {"st": "sint", "ste": "sint"}
"""Short forms typed for a word of a school's name ("st." is "sint" in Dutch school names)."""


_ASCII_WORDS = re.compile(r"[a-z0-9]+")


def fold_words(text: str) -> list[str]:
    """The words of `text` as a search compares them: case, accents and punctuation gone,
    "st"/"ste" read as "sint"."""
    if text.isascii():  # most names: the same words, much faster
        words: list[str] = _ASCII_WORDS.findall(text.lower())
    else:
        decomposed = unicodedata.normalize("NFKD", text.casefold())
        plain = "".join(c for c in decomposed if not unicodedata.combining(c))
        words = "".join(c if c.isalnum() else " " for c in plain).split()
    return [ABBREVIATIONS.get(word, word) for word in words]


@functools.lru_cache(maxsize=4096)
def fold(text: str) -> str:
    return " ".join(fold_words(text))


def typos_allowed(word: str) -> int:
    return 0 if len(word) < 4 else 1 if len(word) < 8 else 2


class Listed(Protocol):
    """What the picker lists and searches of a school."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def place(self) -> str | None: ...


S = TypeVar("S", bound=Listed)


class Choice(NamedTuple):
    """A school as the picker lists it (the whole record is read once picked)."""

    id: str
    name: str
    place: str | None


_BUILDING = threading.Lock()
"""One build at a time per process: a page asked for while the warm-up builds waits for it."""


def picker_index(registry: Registry) -> SearchIndex[Choice]:
    """This process's search index of the schools a pupil picks, built once per registry
    version from their names alone (not every school's record: a worker starts fast and small
    with a national registry)."""
    with _BUILDING:
        return registry.derived("picker index", lambda: SearchIndex(
            [Choice(*names) for names in registry.school_names()]))


def warm_up_in_background(registry: Registry) -> None:
    """Build the index beside the worker's first requests (a worker is ready at once; the
    picker's first page waits for the rest of the build, if any)."""
    def build() -> None:
        try:
            picker_index(registry)
        except Exception as exc:  # the first page builds it again and answers for itself
            log.warning("the school picker's index was not built at start-up: %s",
                        type(exc).__name__)

    threading.Thread(target=build, name="picker-index", daemon=True).start()


def _trigrams(word: str) -> set[str]:
    return {word[i:i + 3] for i in range(len(word) - 2)}


class SearchIndex(Generic[S]):
    """The schools (in the order results are listed) and what finds them; read-only once
    built, so one index serves every thread."""

    def __init__(self, schools: Sequence[S]) -> None:
        self.schools = tuple(schools)
        self._haystacks: list[str] = []
        numbers: dict[str, int] = {}
        words_of = array("i")
        """The word numbers of every school, one school after another."""
        for school in self.schools:
            words = fold_words(f"{school.name} {school.place or ''} {school.id}")
            self._haystacks.append(" ".join(words))
            words_of.extend({numbers.setdefault(w, len(numbers)): None for w in words})
            words_of.append(-1)
        self._vocabulary = list(numbers)
        """Word number -> word."""
        self._starts = array("i", bytes(4 * (len(numbers) + 1)))
        """The schools that have word n: _schools_of[_starts[n]:_starts[n + 1]], ascending."""
        for number in words_of:
            if number >= 0:
                self._starts[number + 1] += 1
        for n in range(len(numbers)):
            self._starts[n + 1] += self._starts[n]
        filled = array("i", self._starts)
        self._schools_of = array("i", bytes(4 * self._starts[-1]))
        position = 0
        for number in words_of:
            if number < 0:
                position += 1
            else:
                self._schools_of[filled[number]] = position
                filled[number] += 1
        self._trigram: dict[str, array[int]] = {}
        for number, word in enumerate(self._vocabulary):
            for gram in _trigrams(word):
                self._trigram.setdefault(gram, array("i")).append(number)
        self._sorted = array("i", sorted(range(len(numbers)), key=self._vocabulary.__getitem__))
        self._sorted_words = [self._vocabulary[n] for n in self._sorted]

    def _postings(self, number: int) -> Sequence[int]:
        return self._schools_of[self._starts[number]:self._starts[number + 1]]

    def _count(self, numbers: Iterable[int]) -> int:
        return sum(self._starts[n + 1] - self._starts[n] for n in numbers)

    def search(self, words: list[str]) -> tuple[list[S], bool]:
        """Up to MAX_MATCHES schools for these folded words, and whether there were more."""
        exact = [self._containing(word) for word in words]
        if all(exact):
            found = list(self._exact(words, exact))
            if found:
                return [self.schools[n] for n in found[:MAX_MATCHES]], len(found) > MAX_MATCHES
        if not any(typos_allowed(word) for word in words):
            return [], False
        return self._closest(words, exact)

    # Every word as typed

    def _containing(self, typed: str) -> list[int]:
        """The numbers of the vocabulary's words that contain `typed`."""
        grams: list[Sequence[int]] = sorted(
            (self._trigram.get(g, []) for g in _trigrams(typed)), key=len)
        candidates: Sequence[int] = grams[0] if grams else range(len(self._vocabulary))
        return [n for n in candidates if typed in self._vocabulary[n]]

    def _exact(self, words: list[str], exact: list[list[int]]) -> Iterator[int]:
        """The positions of the schools with every word, ascending; at most one more than
        shown (enough to say there are more)."""
        rarest = min(range(len(words)), key=lambda i: self._count(exact[i]))
        if len(exact[rarest]) > MERGE_UP_TO:
            # Part of very many words ("e"): reading the schools in order finds a few soon.
            positions: Iterable[int] = range(len(self.schools))
            others = words
        else:
            positions = heapq.merge(*(self._postings(n) for n in exact[rarest]))
            others = [w for i, w in enumerate(words) if i != rarest]
        previous, count = -1, 0
        for position in positions:
            if position == previous:
                continue
            previous = position
            if all(w in self._haystacks[position] for w in others):
                yield position
                count += 1
                if count > MAX_MATCHES:
                    return

    # Close to every word

    def _closest(self, words: list[str], exact: list[list[int]]) -> tuple[list[S], bool]:
        distances = []
        for word, containing in zip(words, exact, strict=True):
            close = self._close(word, typos_allowed(word))
            close.update(dict.fromkeys(containing, 0))
            if not close:
                return [], False
            distances.append(close)
        distances.sort(key=self._count)
        scores: dict[int, int] | None = None
        for close in distances:  # per school: the fewest edits to each typed word, summed
            fewest: dict[int, int] = {}
            for number, edits in close.items():
                for position in self._postings(number):
                    if (scores is None or position in scores) \
                            and edits < fewest.get(position, edits + 1):
                        fewest[position] = edits
            scores = {p: e + (scores[p] if scores else 0) for p, e in fewest.items()}
        assert scores is not None
        best = heapq.nsmallest(MAX_MATCHES, ((e, p) for p, e in scores.items()))
        return [self.schools[n] for _, n in best], len(scores) > MAX_MATCHES

    def _close(self, typed: str, limit: int) -> dict[int, int]:
        """Word number -> the edits (insert, delete, change, swap) that make `typed` into the
        word or into its start, for every word at most `limit` edits away."""
        found: dict[int, int] = {}
        words = self._sorted_words
        m = len(typed)
        columns = [list(range(m + 1))]
        """columns[j][i]: edits from typed[:i] to the path's first j letters."""
        best = [m]
        """best[j]: the fewest edits from all of typed to a start of the path's first j letters."""
        path = ""
        index = 0
        while index < len(words):
            word = words[index]
            common = _common_prefix(path, word)
            del columns[common + 1:], best[common + 1:]
            path = word[:common]
            pruned = False
            for j in range(common + 1, len(word) + 1):
                column = _next_column(typed, word, j, columns)
                columns.append(column)
                best.append(min(best[-1], column[m]))
                path = word[:j]
                if best[-1] > limit and min(column) > limit and min(columns[-2]) >= limit:
                    pruned = True  # nothing under this prefix comes close
                    index = bisect.bisect_left(words, _after(path), index + 1)
                    break
            if pruned:
                continue
            if best[-1] <= limit:
                found[self._sorted[index]] = best[-1]
            index += 1
        return found


def _next_column(typed: str, word: str, j: int, columns: list[list[int]]) -> list[int]:
    b = word[j - 1]
    left = columns[j - 1]
    column = [j] + [0] * len(typed)
    for i, a in enumerate(typed, 1):
        cell = min(left[i] + 1, column[i - 1] + 1, left[i - 1] + (a != b))
        if i > 1 and j > 1 and a == word[j - 2] and typed[i - 2] == b:
            cell = min(cell, columns[j - 2][i - 2] + 1)
        column[i] = cell
    return column


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _after(prefix: str) -> str:
    """The first string after every string that starts with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
