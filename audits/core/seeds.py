"""The audit's one seed scheme: every random stream is a named child of the audit's seed.

``derive_seed(seed, "pool", "keep")`` is NumPy's ``SeedSequence`` fed with the audit's seed and a
CRC-32 of each name, so a stream depends only on the seed and its name, never on the order in
which probes ask for seeds or on how many they ask for (scikit-learn and fairlearn normalise
``random_state`` once and hand each consumer its own integer; the global NumPy seed is never
touched). A family of interchangeable repeats (the K reference models, LIME's repeated runs) is
``seed_family(derive_seed(seed, ...), n)``: the i-th member of the family is the i-th child, so
adding repeats keeps the first ones.

Seeds are always named: a probe asks for ``derive_seed(seed, "explainability", "rows")``, never
unpacks a list of seeds by position.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["derive_seed", "seed_family", "MAX_SEED"]

#: Seeds are unsigned 32-bit integers (NumPy's SeedSequence accepts any non-negative integer;
#: the audit's seed is validated against this range at the boundary).
MAX_SEED = 2**32 - 1


def derive_seed(seed: int, *names: str) -> int:
    """The integer seed of one named purpose, derived from the audit's ``seed``.

    Parameters
    ----------
    seed : the audit's seed (a non-negative integer).
    *names : the purpose, from the general to the particular (``"fair", "gender"``).
    """
    entropy = [int(seed) & 0xFFFFFFFF, *(zlib.crc32(str(k).encode()) for k in names)]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def seed_family(seed: int, n: int) -> list[int]:
    """``n`` independent seeds of interchangeable repeats (SeedSequence spawning): the i-th
    repeat's seed does not depend on ``n``."""
    ss = np.random.SeedSequence(int(seed))
    return [int(c.generate_state(1)[0]) for c in ss.spawn(n)]
