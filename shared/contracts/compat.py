"""Is a new JSON Schema of a topic compatible with the committed one?

The evolution rule (``shared/contracts/events.py``): within a topic version a
field is never removed, renamed or retyped, and a new field is optional with a
default. In schema terms that means two things, checked here:

* every event valid under the old schema is still valid under the new one, so
  consumers on the new model can read everything already on the bus (replays,
  lagging partitions): no narrowed type, no removed enum value, no
  nullable -> non-null, no tighter bound or pattern, no new required field;
* no field disappears, so consumers still on the old model keep finding what
  they read.

Widening (a new optional field, a new enum value, a field made nullable, an
integer made a number) and documentation changes (title, description,
examples, default) are compatible. The checker understands the shapes pydantic
emits: ``$ref`` into ``$defs``, ``anyOf`` with a ``null`` branch, ``enum`` and
``const`` for ``Literal``, ``items`` for lists, ``additionalProperties`` for dicts.
"""
from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_WIDER_TYPE = {"integer": {"number"}}


def breaking_changes(old_schema: Schema, new_schema: Schema) -> list[str]:
    """Human-readable reasons why ``new_schema`` breaks ``old_schema``; empty when compatible."""
    return _Checker(old_schema, new_schema).compare(old_schema, new_schema, "")


class _Checker:
    """Walks the two schemas side by side; each keeps its own ``$defs`` for ``$ref``."""

    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self._in_progress: set[tuple[str, str]] = set()  # ($ref, $ref) pairs: guards recursive models

    def compare(self, old: Schema, new: Schema, path: str) -> list[str]:
        """Every alternative the old schema allowed must be allowed by some new alternative."""
        old_branches = _branches(old, self.old_root)
        new_branches = _branches(new, self.new_root)
        problems: list[str] = []
        for old_ref, branch in old_branches:
            if _is_null(branch):
                if not any(_is_null(b) or _accepts_null(b) for _, b in new_branches):
                    problems.append(f"{_name(path)}: no longer nullable (null was allowed)")
                continue
            candidates = [(ref, b) for ref, b in new_branches if not _is_null(b)]
            attempts = [self._compare_guarded(old_ref, branch, ref, b, path) for ref, b in candidates]
            if any(not attempt for attempt in attempts):
                continue
            same_type = [a for a, (_, b) in zip(attempts, candidates) if _type_compatible(branch, b)]
            if same_type:
                problems.extend(min(same_type, key=len))
            else:
                problems.append(
                    f"{_name(path)}: type changed from {_describe(branch)} to "
                    f"{' | '.join(_describe(b) for _, b in new_branches)}"
                )
        return problems

    def _compare_guarded(self, old_ref: str, old: Schema, new_ref: str, new: Schema, path: str) -> list[str]:
        """A pair of definitions already being compared higher up is assumed compatible
        (its differences are reported there), so recursive models terminate."""
        key = (old_ref, new_ref)
        if key == ("", ""):
            return self._compare_one(old, new, path)
        if key in self._in_progress:
            return []
        self._in_progress.add(key)
        try:
            return self._compare_one(old, new, path)
        finally:
            self._in_progress.discard(key)

    def _compare_one(self, old: Schema, new: Schema, path: str) -> list[str]:
        """One non-null alternative against another."""
        if not _type_compatible(old, new):
            return [f"{_name(path)}: type changed from {_describe(old)} to {_describe(new)}"]
        problems = _value_constraints(old, new, path)
        if "object" in _types(old) or "properties" in old or "properties" in new:
            problems += self._compare_object(old, new, path)
        if "items" in old or "items" in new:
            problems += self.compare(old.get("items", {}), new.get("items", {}), f"{path}[]")
        return problems

    def _compare_object(self, old: Schema, new: Schema, path: str) -> list[str]:
        problems: list[str] = []
        old_props: Schema = old.get("properties", {})
        new_props: Schema = new.get("properties", {})
        for field, old_field in old_props.items():
            if field not in new_props:
                problems.append(f"{_join(path, field)}: field removed")
            else:
                problems += self.compare(old_field, new_props[field], _join(path, field))
        old_required = set(old.get("required", ()))
        for field in sorted(set(new.get("required", ())) - old_required):
            what = "field became required" if field in old_props else "new required field"
            problems.append(f"{_join(path, field)}: {what} (add it as optional with a default)")
        old_extra, new_extra = old.get("additionalProperties", True), new.get("additionalProperties", True)
        if new_extra is False and old_extra is not False:
            problems.append(f"{_name(path)}: additional properties no longer allowed")
        elif isinstance(new_extra, dict):
            problems += self.compare(old_extra if isinstance(old_extra, dict) else {}, new_extra, f"{path}{{*}}")
        return problems


def _value_constraints(old: Schema, new: Schema, path: str) -> list[str]:
    """Enum/const, format, pattern and numeric/length bounds: the new ones may only loosen."""
    problems: list[str] = []
    old_values, new_values = _allowed_values(old), _allowed_values(new)
    if new_values is not None:
        if old_values is None:
            problems.append(f"{_name(path)}: restricted to the values {sorted(map(str, new_values))}")
        elif removed := [v for v in old_values if v not in new_values]:
            problems.append(f"{_name(path)}: enum values removed {sorted(map(str, removed))}")
    for key in ("format", "pattern"):
        if key in new and new[key] != old.get(key):
            problems.append(f"{_name(path)}: {key} changed from {old.get(key)!r} to {new[key]!r}")
    for key in _LOWER_BOUNDS:
        if key in new and (key not in old or new[key] > old[key]):
            problems.append(f"{_name(path)}: {key} tightened from {old.get(key)!r} to {new[key]!r}")
    for key in _UPPER_BOUNDS:
        if key in new and (key not in old or new[key] < old[key]):
            problems.append(f"{_name(path)}: {key} tightened from {old.get(key)!r} to {new[key]!r}")
    return problems


def _resolve(root: Schema, schema: Schema) -> Schema:
    """Follow local ``$ref`` chains (``#/$defs/Name`` or any JSON pointer in the same document)."""
    seen: set[str] = set()
    while "$ref" in schema:
        ref = schema["$ref"]
        if ref in seen or not ref.startswith("#"):
            raise ValueError(f"cannot resolve $ref {ref!r}")
        seen.add(ref)
        target: Any = root
        for part in filter(None, ref[1:].split("/")):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        # Sibling keywords of $ref (pydantic puts description/default there) are kept.
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _branches(schema: Schema, root: Schema, via: str = "") -> list[tuple[str, Schema]]:
    """The alternatives a schema allows, each with the ``$ref`` it was reached through:
    ``$ref`` followed, ``anyOf``/``oneOf`` members and ``type`` lists split out."""
    if "$ref" in schema:
        return _branches(_resolve(root, schema), root, schema["$ref"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            shared = {k: v for k, v in schema.items() if k != key}
            return [b for member in schema[key] for b in _branches({**shared, **member}, root, via)]
    types = schema.get("type")
    if isinstance(types, list):
        return [(via, {**schema, "type": t}) for t in types]
    return [(via, schema)]


def _is_null(schema: Schema) -> bool:
    return schema.get("type") == "null" or ("const" in schema and schema["const"] is None)


def _accepts_null(schema: Schema) -> bool:
    """An untyped, unrestricted branch (``Any``) accepts null too."""
    return not _types(schema) and _allowed_values(schema) is None


def _types(schema: Schema) -> set[str]:
    types = schema.get("type")
    return {types} if isinstance(types, str) else set(types or ())


def _type_compatible(old: Schema, new: Schema) -> bool:
    """The new type accepts the old type's values (a missing type accepts anything)."""
    old_t, new_t = _types(old), _types(new)
    if not new_t:
        return True
    if not old_t:
        return False
    return all(t in new_t or _WIDER_TYPE.get(t, set()) & new_t for t in old_t)


def _allowed_values(schema: Schema) -> list[Any] | None:
    if "enum" in schema:
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    return None


def _describe(schema: Schema) -> str:
    values = _allowed_values(schema)
    if values is not None:
        return f"one of {values}"
    text = "/".join(sorted(_types(schema))) or "any"
    return f"{text} ({schema['format']})" if "format" in schema else text


def _join(path: str, field: str) -> str:
    return f"{path}.{field}" if path else field


def _name(path: str) -> str:
    return path or "(event)"
