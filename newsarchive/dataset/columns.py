"""Column types of the dataset, derived from the item's JSON Schema (never from the data).

The JSON Schema is generated from :mod:`newsarchive.items`, so a field added there becomes a
column here with no edit. A column's type comes from the schema alone: a run in which every
``accessible_for_free`` is null still writes a boolean column. The mapping:

- ``string`` → string; ``string`` with ``format: date-time`` → UTC timestamp (microseconds);
- ``integer`` → int64; ``number`` → float64; ``boolean`` → bool;
- ``array`` → list of the items' type; ``object`` with ``properties`` → struct;
- anything the schema leaves open (an object without properties) → its JSON text, a string.

The CSV flattening is derived from the same tree (:func:`csv_columns`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from newsarchive.schema import item_schema


@dataclass(frozen=True)
class Column:
    """One field of the schema tree: its Arrow type and how to turn a JSON value into it."""

    name: str
    kind: str  # string, timestamp, int, float, bool, list, struct, json
    arrow: pa.DataType
    description: str = ""
    children: tuple[Column, ...] = ()  # struct fields, or the one item type of a list

    def convert(self, value: Any) -> Any:
        """The Python value pyarrow takes for this column (``None`` stays ``None``)."""
        if value is None:
            return None
        if self.kind == "timestamp":
            return parse_timestamp(value)
        if self.kind == "json":
            return json.dumps(value, ensure_ascii=False, sort_keys=True)
        if self.kind == "list":
            (item,) = self.children
            return [item.convert(v) for v in value]
        if self.kind == "struct":
            return {c.name: c.convert(value.get(c.name)) for c in self.children}
        return value


class BadValue(ValueError):
    """A value the item schema does not allow (named by field in the message)."""


def parse_timestamp(value: str) -> datetime:
    """``2012-02-07T12:34:00Z`` (any RFC 3339 offset) as an aware UTC datetime."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise BadValue(f"{value!r} is not an ISO 8601 date-time") from exc
    if moment.tzinfo is None:  # the schema says UTC; a naive value is read as UTC
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _types(prop: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The one non-null JSON type of a property (``["null", "string"]``, ``anyOf``)."""
    if "anyOf" in prop:
        options = [o for o in prop["anyOf"] if o.get("type") != "null"]
        if len(options) == 1:
            return _types(options[0])
        return None, prop
    kind = prop.get("type")
    if isinstance(kind, list):
        rest = [k for k in kind if k != "null"]
        kind = rest[0] if len(rest) == 1 else None
    return kind, prop


def column(name: str, prop: dict[str, Any]) -> Column:
    """The :class:`Column` of one JSON Schema property."""
    kind, spec = _types(prop)
    description = prop.get("description", spec.get("description", ""))
    if kind == "string" and spec.get("format") == "date-time":
        return Column(name, "timestamp", pa.timestamp("us", tz="UTC"), description)
    scalars = {
        "string": ("string", pa.string()),
        "integer": ("int", pa.int64()),
        "number": ("float", pa.float64()),
    }
    if kind in scalars:
        short, arrow = scalars[kind]
        return Column(name, short, arrow, description)
    if kind == "boolean":
        return Column(name, "bool", pa.bool_(), description)
    if kind == "array" and isinstance(spec.get("items"), dict):
        item = column("item", spec["items"])
        return Column(name, "list", pa.list_(item.arrow), description, (item,))
    if kind == "object" and spec.get("properties"):
        children = tuple(column(k, v) for k, v in spec["properties"].items())
        arrow = pa.struct([pa.field(c.name, c.arrow) for c in children])
        return Column(name, "struct", arrow, description, children)
    return Column(name, "json", pa.string(), description)


def item_columns(schema: dict[str, Any] | None = None) -> tuple[Column, ...]:
    """The dataset's columns, in item field order, from the item JSON Schema."""
    schema = schema or item_schema()
    return tuple(column(name, prop) for name, prop in schema["properties"].items())


def arrow_schema(columns: tuple[Column, ...]) -> pa.Schema:
    """The Parquet schema; each field carries its item-schema description."""
    fields = [
        pa.field(
            c.name, c.arrow, metadata={"description": c.description} if c.description else None
        )
        for c in columns
    ]
    return pa.schema(fields, metadata={"newsarchive": "scrapy dataset: one row per article item"})


def to_row(columns: tuple[Column, ...], item: dict[str, Any]) -> dict[str, Any]:
    """One item as the values of one Parquet row; :class:`BadValue` names the field."""
    row = {}
    for c in columns:
        try:
            row[c.name] = c.convert(item.get(c.name))
        except (BadValue, AttributeError, TypeError) as exc:
            raise BadValue(f"field {c.name!r}: {exc}") from exc
    return row


# --- CSV -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvColumn:
    """A CSV column: its name and how to take its cell from an item."""

    name: str
    path: tuple[str, ...]
    source: Column


def csv_columns(columns: tuple[Column, ...]) -> tuple[CsvColumn, ...]:
    """Flat columns: a struct field becomes ``<field>_<subfield>``; everything else one column."""
    out: list[CsvColumn] = []

    def walk(c: Column, path: tuple[str, ...]) -> Iterator[CsvColumn]:
        if c.kind == "struct":
            for child in c.children:
                yield from walk(child, (*path, child.name))
        else:
            yield CsvColumn("_".join(path), path, c)

    for c in columns:
        out.extend(walk(c, (c.name,)))
    names = [c.name for c in out]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:  # a new field named like a flattened struct field: say so, never overwrite
        raise ValueError(f"CSV column names collide: {duplicates}; rename the item field")
    return tuple(out)


def csv_cell(column: CsvColumn, item: dict[str, Any]) -> str:
    """The text of one cell: ISO 8601 UTC for timestamps, JSON for lists and open objects,
    ``true``/``false`` for booleans, empty for null."""
    value: Any = item
    for key in column.path:
        value = value.get(key) if isinstance(value, dict) else None
    if value is None:
        return ""
    kind = column.source.kind
    if kind == "timestamp":
        return parse_timestamp(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")
    if kind in ("list", "json"):
        return json.dumps(value, ensure_ascii=False)
    if kind == "bool":
        return "true" if value else "false"
    return str(value)
