"""Hashed n-grams of the diacritic-folded text: the lexical half of the embedded engine's features, and of
the Rasa pipeline's out-of-scope gate (nlu/rasa_components/out_of_scope_gate.py).

They carry the short, fixed chat phrases ("tiep di", "nhắc lại") that sentence embeddings blur, and
"chuyen sang tieng anh" matches "chuyển sang tiếng anh" word for word. NumPy and the standard library
only: Rasa's environment (Python 3.10, NumPy < 1.24) imports this too.
"""

from __future__ import annotations

import hashlib
import itertools

import numpy as np

from nlu.softmax import Matrix

HASH_BUCKETS = 4096


def _bucket(feature: str) -> int:
    digest = hashlib.blake2b(feature.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "little") % HASH_BUCKETS


def lexical_features(folded: str) -> Matrix:
    """Hashed character 2-4-grams within word boundaries plus words and word pairs, L2-normalised."""
    vector = np.zeros(HASH_BUCKETS, dtype=np.float32)
    words = folded.split()
    for word in words:
        padded = f" {word} "
        for n in (2, 3, 4):
            for i in range(len(padded) - n + 1):
                vector[_bucket("c" + padded[i : i + n])] += 1.0
        vector[_bucket("w" + word)] += 2.0
    for first, second in itertools.pairwise(words):
        vector[_bucket(f"b{first} {second}")] += 2.0
    if len(words) <= 3:  # short messages are the conversational ones; let the model know
        vector[_bucket(f"len{len(words)}")] += 2.0
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector
