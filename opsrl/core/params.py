"""Frozen, validated parameter dataclasses with named presets.

A family declares ``@dataclass(frozen=True) class XParams(Params)`` with a docstring per field, a
``validate`` method and a ``presets()`` table of ``name -> overrides``. ``XParams.from_preset(name, **kw)``
is the one way an environment, a solver or the CLI builds an instance, so every path validates alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import yaml

from opsrl.core.errors import ParameterError


@dataclasses.dataclass(frozen=True)
class Params:
    """Base class of every family's parameters (subclasses are frozen dataclasses)."""

    default_preset: ClassVar[str] = ""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`opsrl.core.errors.ParameterError` on any out-of-range field."""

    @classmethod
    def presets(cls) -> Mapping[str, Mapping[str, Any]]:
        """``preset name -> field overrides`` (on top of the dataclass defaults)."""
        return {}

    @classmethod
    def preset_names(cls) -> list[str]:
        return list(cls.presets())

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_preset(cls, preset: str | None = None, **overrides: Any) -> Params:
        """Build the parameters of ``preset`` (default: ``default_preset``) with ``overrides`` applied."""
        table = cls.presets()
        name = preset or cls.default_preset
        if name not in table:
            raise ParameterError(
                f"unknown preset {name!r} for {cls.__name__}; valid presets: {', '.join(table)}")
        unknown = sorted(set(overrides) - set(cls.field_names()))
        if unknown:
            raise ParameterError(
                f"unknown parameter(s) {unknown} for {cls.__name__}; valid: {', '.join(cls.field_names())}")
        kwargs = {**table[name], **overrides}
        return cls(**kwargs)

    def replace(self, **changes: Any) -> Params:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data view (lists instead of tuples/arrays) for JSON and ``describe``."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.tolist() if hasattr(v, "tolist") else (list(v) if isinstance(v, tuple) else v)
        return out


def _number_or(value: Any) -> Any:
    """YAML 1.1 reads ``3e-3`` (no dot) as a string; a value that is a number is a number, and Python's
    ``None`` is YAML's ``null``."""
    if value == "None":
        return None
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return [_number_or(v) for v in value]
    return value


def parse_overrides(pairs: list[str] | None) -> dict[str, Any]:
    """Parse CLI ``key=value`` pairs; values are read as YAML (``3``, ``0.5``, ``[1, 2]``, ``true``)."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise ParameterError(f"--set {pair!r} is invalid: expected key=value")
        key, raw = pair.split("=", 1)
        value = _number_or(yaml.safe_load(raw))
        if isinstance(value, list):
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        out[key.strip()] = value
    return out
