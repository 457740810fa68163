"""Request bodies that are the facility file's own objects (a patient, a staff member, a group,
an authorization, a court order, a period), declared in the OpenAPI document with the schema the
use cases check them against: the one in clinic/schemas/facility.schema.json."""

from __future__ import annotations

from typing import Any

from litestar.enums import RequestEncodingType
from litestar.params import Body

from clinic.facility_file.validate import facility_schema


def facility_object(
    path: str, *, optional: tuple[str, ...] = (), partial: bool = False, **extra: Any
) -> dict[str, Any]:
    """The schema of one object of the facility file ("patients", "staff", "groups",
    "patients.court_order", "period" ...), its `$defs` inlined. `optional`: required keys the
    door fills in itself (an id it makes); `partial`: a merge patch (nothing required, null
    removes a field); `extra`: properties the door reads beside the object."""
    root = facility_schema()
    schema = _inline(_object_at(root, path), root["$defs"])
    properties = {**schema.get("properties", {}), **extra}
    if partial:
        properties = {k: {"anyOf": [v, {"type": "null"}]} for k, v in properties.items()}
    schema["properties"] = properties
    required = [k for k in schema.pop("required", []) if k not in optional and not partial]
    return schema | ({"required": required} if required else {})


def json_object(schema: dict[str, Any]) -> Any:
    """`Annotated[dict[str, Any], json_object(schema)]`: a JSON body the use case reads as a
    dict, declared with `schema` in the document."""
    return Body(media_type=RequestEncodingType.JSON, schema_extra=schema)


def _object_at(root: dict[str, Any], path: str) -> dict[str, Any]:
    first, *rest = path.split(".")
    node = root["$defs"][first] if first in root["$defs"] else root["properties"][first]
    node = node.get("items", node)
    for key in rest:
        node = node["properties"][key]
        node = node.get("items", node)
    return node


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return {**_inline(defs[ref.removeprefix("#/$defs/")], defs), **_inline(rest, defs)}
        return {k: _inline(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node
