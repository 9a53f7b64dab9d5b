"""Validation and integer encoding of labels for the agreement statistics.

Labels are any hashable values, usually strings such as "PASS" and "FAIL". ``None`` and float NaN
mark a missing rating. Encoded labels are int64 category indices, with -1 for a missing rating.
Category indices follow the caller's ``categories`` when given, otherwise the sorted labels.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

LabelSequence = Sequence[Hashable] | np.ndarray
"""One label per item, for example ``["PASS", "FAIL", "PASS"]``."""

LabelMatrix = Sequence[Sequence[Hashable | None]] | np.ndarray
"""Items x raters labels, ``None`` or NaN where a rater gave no usable rating."""

# Above this many categories, encoding by one equality mask per category costs more than a
# Python dict lookup per label.
_MAX_CATEGORIES_FOR_MASK_ENCODING = 32


def as_label_array(values: Any, name: str, ndim: int) -> np.ndarray:
    """Convert input to an ndarray with ``ndim`` dimensions, keeping ndarray input as is.

    Lists become object arrays so that numpy never coerces mixed labels to one string type.
    """
    if isinstance(values, np.ndarray):
        array = values
    else:
        try:
            array = np.asarray(values, dtype=object)
        except ValueError as error:
            raise ValueError(f"{name} is not a rectangular array of labels: {error}") from error

    if array.ndim != ndim:
        shape_hint = "a sequence of labels" if ndim == 1 else "an items x raters matrix (rows of equal length)"
        raise ValueError(f"{name} must be {shape_hint}, got an array of shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); pass at least one item")
    return array


def missing_mask(array: np.ndarray) -> np.ndarray:
    """Return a boolean mask that is true at None and NaN entries."""
    kind = array.dtype.kind
    if kind == "O":
        # Elementwise on object arrays: `== None` finds None, and `x != x` is true only for NaN.
        return np.asarray((array == None) | (array != array), dtype=bool)  # noqa: E711
    if kind in "fc":
        return np.isnan(array)
    return np.zeros(array.shape, dtype=bool)


def _sorted_labels(labels: set[Hashable]) -> tuple[Hashable, ...]:
    try:
        return tuple(sorted(labels))  # type: ignore[type-var]
    except TypeError:
        # Labels of mixed types do not compare, so order by type name and repr for a stable order.
        return tuple(sorted(labels, key=lambda label: (type(label).__name__, repr(label))))


def _resolve_categories(
    observed: set[Hashable], categories: Sequence[Hashable] | None, name: str
) -> tuple[Hashable, ...]:
    if categories is None:
        return _sorted_labels(observed)

    declared = tuple(categories)
    if len(set(declared)) != len(declared):
        raise ValueError(f"categories contains duplicates: {declared!r}; list each label once")
    if any(label is None or (isinstance(label, float) and math.isnan(label)) for label in declared):
        raise ValueError(f"categories contains a missing value: {declared!r}; list only real labels")

    unknown = observed - set(declared)
    if unknown:
        raise ValueError(
            f"{name} contains labels not in categories {declared!r}: {_sorted_labels(unknown)!r}; "
            "add them to categories or filter them out first"
        )
    return declared


def _encode(array: np.ndarray, missing: np.ndarray, categories: tuple[Hashable, ...]) -> np.ndarray:
    """Map labels to category indices, -1 where missing."""
    codes = np.full(array.shape, -1, dtype=np.int64)
    if len(categories) <= _MAX_CATEGORIES_FOR_MASK_ENCODING:
        for index, label in enumerate(categories):
            codes[(array == label) & ~missing] = index
        return codes

    lookup = {label: index for index, label in enumerate(categories)}
    present = ~missing
    codes[present] = [lookup[label] for label in array[present].tolist()]
    return codes


def encode_matrix(
    matrix: LabelMatrix, categories: Sequence[Hashable] | None, name: str = "matrix"
) -> tuple[np.ndarray, tuple[Hashable, ...]]:
    """Encode an items x raters label matrix, allowing missing ratings.

    Returns:
        Codes of shape (items, raters) with -1 for missing ratings, and the category labels.
    """
    array = as_label_array(matrix, name, ndim=2)
    if array.shape[1] < 2:
        raise ValueError(f"{name} has {array.shape[1]} rater column(s); agreement needs at least 2 raters")

    missing = missing_mask(array)
    observed = set(array[~missing].tolist())
    resolved = _resolve_categories(observed, categories, name)
    return _encode(array, missing, resolved), resolved


def encode_pair(
    a: LabelSequence,
    b: LabelSequence,
    categories: Sequence[Hashable] | None,
    names: tuple[str, str] = ("a", "b"),
) -> tuple[np.ndarray, np.ndarray, tuple[Hashable, ...]]:
    """Encode two paired label sequences on one shared category list.

    Raises ValueError at the first missing label, because paired statistics need a label on both sides.
    """
    first = as_label_array(a, names[0], ndim=1)
    second = as_label_array(b, names[1], ndim=1)
    if first.shape != second.shape:
        raise ValueError(
            f"{names[0]} has {first.shape[0]} labels but {names[1]} has {second.shape[0]}; "
            "pass one label per item in both"
        )

    observed: set[Hashable] = set()
    masks = []
    for array, name in ((first, names[0]), (second, names[1])):
        missing = missing_mask(array)
        if missing.any():
            position = int(np.flatnonzero(missing)[0])
            raise ValueError(
                f"{name}[{position}] is {array[position]!r}, a missing label; "
                f"filter out items without a label ({int(missing.sum())} in {name}) before calling"
            )
        observed.update(array.tolist())
        masks.append(missing)

    resolved = _resolve_categories(observed, categories, f"{names[0]} or {names[1]}")
    return _encode(first, masks[0], resolved), _encode(second, masks[1], resolved), resolved


def rating_counts(codes: np.ndarray, n_categories: int) -> np.ndarray:
    """Count, per item, how many raters chose each category: shape (items, categories)."""
    n_items = codes.shape[0]
    rated = codes >= 0
    item_index = np.broadcast_to(np.arange(n_items)[:, np.newaxis], codes.shape)
    flat = item_index[rated] * n_categories + codes[rated]
    return np.bincount(flat, minlength=n_items * n_categories).reshape(n_items, n_categories)


def contingency_table(codes_a: np.ndarray, codes_b: np.ndarray, n_categories: int) -> np.ndarray:
    """Count label pairs: rows are the categories of ``codes_a``, columns those of ``codes_b``."""
    flat = codes_a * n_categories + codes_b
    return np.bincount(flat, minlength=n_categories * n_categories).reshape(n_categories, n_categories)
