"""Accuracy of extracted records against builder ground truth: precision, recall, F1."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

MONEY_FIELDS = {"unit_price", "quantity", "gross", "discount", "net", "amount"}


def _normal(name: str, value: Any) -> Any:
    """Compare money as Decimal (so `1.10` == `1.1` never hides a sign or digit error)."""
    if name in MONEY_FIELDS and value is not None:
        return Decimal(str(value))
    return value


@dataclass
class Score:
    """How extracted records compare with the truth, record by record and field by field."""

    expected: int
    extracted: int
    correct: int
    wrong_fields: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.correct / self.extracted if self.extracted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.expected if self.expected else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(truth: Sequence[Mapping[str, Any]], got: Sequence[Mapping[str, Any]], key: str) -> Score:
    """A record is correct only when every field the truth gives is equal."""
    by_key = {record[key]: record for record in got}
    result = Score(expected=len(truth), extracted=len(got), correct=0)
    for expected in truth:
        actual = by_key.get(expected[key])
        if actual is None:
            result.wrong_fields["<missing>"] = result.wrong_fields.get("<missing>", 0) + 1
            continue
        wrong = [n for n, v in expected.items() if _normal(n, v) != _normal(n, actual.get(n))]
        if not wrong:
            result.correct += 1
        for name in wrong:
            result.wrong_fields[name] = result.wrong_fields.get(name, 0) + 1
            if len(result.examples) < 10:
                result.examples.append(
                    f"{expected[key]} {name}: want {expected[name]!r} got {actual.get(name)!r}"
                )
    return result


def _flat(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A record with nested mappings spelled out as ``outer.inner`` fields."""
    out: dict[str, Any] = {}
    for name, value in record.items():
        if isinstance(value, Mapping):
            out |= _flat(value, f"{prefix}{name}.")
        else:
            out[prefix + name] = value
    return out


def field_accuracy(
    truth: Sequence[Mapping[str, Any]], got: Sequence[Mapping[str, Any]], key: str
) -> dict[str, float]:
    """Per field the truth gives, the share of truth records whose extracted record (found by ``key``)
    holds an equal value; a record not extracted counts wrong for every field. Nested fields (an
    expense's coding) are scored one by one as ``coding.job`` etc.; money compares as Decimal."""
    by_key = {record[key]: _flat(record) for record in got}
    right: dict[str, int] = {}
    for expected in truth:
        actual = by_key.get(expected[key])
        for name, value in _flat(expected).items():
            leaf = name.rsplit(".", 1)[-1]
            ok = actual is not None and name in actual and _normal(leaf, value) == _normal(leaf, actual[name])
            right[name] = right.get(name, 0) + ok
    return {name: count / len(truth) for name, count in right.items()} if truth else {}
