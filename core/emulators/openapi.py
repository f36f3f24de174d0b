"""Strict request validation against an OpenAPI 3.0 document, answered the ASP.NET way.

The emulators must refuse what the real services refuse. Halo is an ASP.NET application using
Json.NET with `MissingMemberHandling.Error`, so a bad body comes back as a 400 whose JSON is the
model state: field path → list of messages, e.g. `{"[0].nmae": ["Could not find member ..."]}`.
This module turns the spec's request-body schemas into JSON Schema (draft 4, which OpenAPI 3.0
schemas are based on), builds one validator per operation on first use, and renders jsonschema
errors as those model-state entries.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import ValidationError

SPEC_DIR = Path(__file__).parent / "specs"
HALO_SPEC = "halo-openapi-kb.json"

ModelState = dict[str, list[str]]

MAX_ERRORS = 50
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_DOTNET_TYPES = {
    "integer": "System.Int32",
    "number": "System.Double",
    "boolean": "System.Boolean",
    "string": "System.String",
}
_ANNOTATIONS = frozenset(
    {"description", "example", "examples", "readOnly", "writeOnly", "xml", "externalDocs"}
    | {"deprecated", "discriminator", "nullable"}
)


class OpenApiDocument:
    """One OpenAPI 3.0 document; validators and parameter tables are built lazily and cached."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self._components: dict[str, Any] | None = None
        self._bodies: dict[tuple[str, str], BodyValidator | None] = {}
        self._queries: dict[tuple[str, str], QueryParameters] = {}

    @classmethod
    def from_file(cls, path: Path) -> OpenApiDocument:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def operation(self, method: str, template: str) -> Mapping[str, Any]:
        """The operation object; KeyError when the spec does not define it."""
        operation: Mapping[str, Any] = self.document["paths"][template][method.lower()]
        return operation

    def operations(self) -> Iterable[tuple[str, str]]:
        for template, item in self.document["paths"].items():
            for method in item:
                if method in _HTTP_METHODS:
                    yield method.upper(), template

    def body_validator(self, method: str, template: str) -> BodyValidator | None:
        """The validator for the JSON request body, or None when the operation takes none."""
        key = (method.upper(), template)
        if key not in self._bodies:
            self._bodies[key] = self._build_body_validator(self.operation(method, template))
        return self._bodies[key]

    def query_parameters(self, method: str, template: str) -> QueryParameters:
        key = (method.upper(), template)
        if key not in self._queries:
            params = self.operation(method, template).get("parameters", [])
            self._queries[key] = QueryParameters([p for p in params if p.get("in") == "query"])
        return self._queries[key]

    def _build_body_validator(self, operation: Mapping[str, Any]) -> BodyValidator | None:
        content = operation.get("requestBody", {}).get("content", {})
        json_types = [t for t in content if _is_json_media_type(t)]
        if not json_types:
            return None
        if self._components is None:
            schemas = self.document.get("components", {}).get("schemas", {})
            self._components = {
                name: {**to_json_schema(schema), "title": name} for name, schema in schemas.items()
            }
        return BodyValidator(
            content[json_types[0]]["schema"], self._components, frozenset(json_types)
        )


@cache
def halo_document() -> OpenApiDocument:
    """The Halo KB subset shipped inside the package (never the copy under /work/shared)."""
    return OpenApiDocument.from_file(SPEC_DIR / HALO_SPEC)


def to_json_schema(node: Any) -> Any:
    """Translate one OpenAPI 3.0 schema object to JSON Schema draft 4.

    `nullable` becomes a `null` type, `int32`/`int64` become range limits (Json.NET refuses an
    out-of-range number), and siblings of `$ref` are dropped as OpenAPI 3.0 says.
    """
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return {"$ref": node["$ref"]}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _ANNOTATIONS:
            continue
        if key == "properties":
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = to_json_schema(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [to_json_schema(sub) for sub in value]
        else:
            out[key] = value
    if out.get("type") == "integer" and node.get("format") in _INT_RANGES:
        out["minimum"], out["maximum"] = _INT_RANGES[node["format"]]
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def model_key(path: Iterable[str | int]) -> str:
    """ASP.NET model-state key of a JSON path: `[0].faqlists[1].id`."""
    key = ""
    for part in path:
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += f".{part}" if key else str(part)
    return key


def add_error(errors: ModelState, key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


class BodyValidator:
    """Validates one operation's JSON body; `errors()` returns {} when the body is valid."""

    def __init__(
        self, schema: Mapping[str, Any], components: dict[str, Any], media_types: frozenset[str]
    ) -> None:
        self.media_types = media_types
        self.root = {**to_json_schema(schema), "components": {"schemas": components}}
        self._validator = Draft4Validator(self.root, format_checker=_FORMAT_CHECKER)

    def accepts_media_type(self, content_type: str) -> bool:
        media = content_type.split(";", 1)[0].strip().lower()
        return media in self.media_types or _is_json_media_type(media)

    def errors(self, body: Any) -> ModelState:
        found: ModelState = {}
        for count, error in enumerate(self._validator.iter_errors(body)):
            if count >= MAX_ERRORS:
                break
            for key, message in _describe(error):
                add_error(found, key, message)
        return found


class QueryParameters:
    """The query parameters of one operation, parsed the way ASP.NET model binding does."""

    def __init__(self, parameters: list[Mapping[str, Any]]) -> None:
        self._schemas = {p["name"].lower(): (p["name"], p.get("schema", {})) for p in parameters}

    def parse(self, query: Iterable[tuple[str, str]]) -> tuple[dict[str, Any], ModelState]:
        """Typed values keyed by lower-case name (keys match case-insensitively), and errors.

        Parameters the spec does not define are ignored, as ASP.NET ignores them.
        """
        values: dict[str, Any] = {}
        errors: ModelState = {}
        for raw_name, raw in query:
            name = raw_name.lower()
            if name not in self._schemas or raw == "":
                continue
            spec_name, schema = self._schemas[name]
            try:
                values[name] = _parse_scalar(raw, schema)
            except ValueError:
                add_error(errors, spec_name, f"The value '{raw}' is not valid.")
        return values, errors


def _parse_scalar(raw: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if kind in ("integer", "int"):
        low, high = _INT_RANGES.get(schema.get("format", "int32"), _INT_RANGES["int32"])
        value = int(raw.strip())
        if not low <= value <= high:
            raise ValueError(raw)
        return value
    if kind in ("boolean", "bool"):
        lowered = raw.strip().lower()
        if lowered not in ("true", "false"):
            raise ValueError(raw)
        return lowered == "true"
    if kind == "number":
        return float(raw)
    fmt = schema.get("format")
    if fmt == "date-time" and not _is_datetime(raw):
        raise ValueError(raw)
    if fmt == "uuid" and not _is_uuid(raw):
        raise ValueError(raw)
    return raw


def _is_json_media_type(media: str) -> bool:
    return media in ("application/json", "text/json") or media.endswith("+json")


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _is_base64(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


_FORMAT_CHECKER = FormatChecker(formats=())
_FORMAT_CHECKER.checks("date-time")(_is_datetime)
_FORMAT_CHECKER.checks("uuid")(_is_uuid)
_FORMAT_CHECKER.checks("byte")(_is_base64)
_FORMAT_NAMES = {"date-time": "DateTime", "uuid": "Guid", "byte": "byte[]"}


def _describe(error: ValidationError) -> list[tuple[str, str]]:
    """Model-state entries for one jsonschema error, worded like Json.NET's messages."""
    path = list(error.absolute_path)
    key = model_key(path)
    schema = _schema_of(error)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = schema.get("properties", {})
        type_name = schema.get("title", "Object")
        entries = []
        for member in error.instance:
            if member not in known:
                member_key = model_key([*path, member])
                entries.append(
                    (
                        member_key,
                        f"Could not find member '{member}' on object of type '{type_name}'. "
                        f"Path '{member_key}'.",
                    )
                )
        return entries
    where = f"Path '{key}'."
    if error.validator == "type":
        return [(key, f"{_type_message(error)} {where}")]
    if error.validator in ("minimum", "maximum"):
        return [(key, f"JSON integer {error.instance} is too large or small for an Int32. {where}")]
    if error.validator == "format":
        target = _FORMAT_NAMES.get(str(error.validator_value), str(error.validator_value))
        return [(key, f"Could not convert string to {target}: {error.instance}. {where}")]
    return [(key, f"{error.message}. {where}")]


def _schema_of(error: ValidationError) -> Mapping[str, Any]:
    """The schema the error is about (jsonschema types it loosely: a boolean schema, or unset)."""
    return error.schema if isinstance(error.schema, Mapping) else {}


def _type_message(error: ValidationError) -> str:
    expected = error.validator_value
    if isinstance(expected, str):
        wanted = [expected]
    else:
        wanted = [t for t in expected if t != "null"] if isinstance(expected, list | tuple) else []
    target = wanted[0] if wanted else "object"
    value = error.instance
    if value is None:
        return f"Error converting value {{null}} to type '{_DOTNET_TYPES.get(target, target)}'."
    if target == "array":
        item = _type_name(_schema_of(error).get("items", {}))
        if isinstance(value, dict):
            return (
                'Cannot deserialize the current JSON object (e.g. {"name":"value"}) into type '
                f"'System.Collections.Generic.List`1[{item}]' because the type requires a JSON "
                "array (e.g. [1,2,3]) to deserialize correctly."
            )
        return f"Error converting value {json.dumps(value)} to type 'List`1[{item}]'."
    if target == "object" and isinstance(value, list):
        return (
            "Cannot deserialize the current JSON array (e.g. [1,2,3]) into type "
            f"'{_type_name(_schema_of(error))}' because the type requires a JSON object "
            '(e.g. {"name":"value"}) to deserialize correctly.'
        )
    if isinstance(value, str) and target in ("boolean", "integer", "number"):
        dotnet = {"boolean": "boolean", "integer": "integer", "number": "double"}[target]
        return f"Could not convert string to {dotnet}: {value}."
    if isinstance(value, float) and target == "integer":
        return f"Input string '{value}' is not a valid integer."
    first = json.dumps(value)[:1]
    return f"Unexpected character encountered while parsing value: {first}."


def _type_name(schema: Mapping[str, Any]) -> str:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return re.sub(r".*/", "", ref)
    return str(schema.get("title", "Object"))
