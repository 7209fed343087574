"""A client built from the OpenAPI schema alone: for every operation it fills the path, the
required parameters and a body made from the request schema (with real ids where the schema asks
for one), sends it with a write token of department 1.1, and checks the answer against the
response schema. What a department's own system does with our schema, it can do."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from openapi_spec_validator import validate

from memberships.models import Function
from tests.factories import make_intake_form

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today().isoformat()


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"][name]
    if "anyOf" in node:  # Optional[X]: the non-null choice
        node = next(choice for choice in node["anyOf"] if choice.get("type") != "null")
        return _resolve(schema, node)
    return node


def _example(schema: dict, node: dict, name: str, known: dict):
    """A value for property `name` of the shape `node`: a real id or code where one is needed.
    Objects get their required properties and those in `known`."""
    node = _resolve(schema, node)
    if name in known:
        return known[name]
    kind = node.get("type")
    if kind == "object":
        return {prop: _example(schema, sub, prop, known) for prop, sub in node.get("properties", {}).items()
                if prop in node.get("required", []) or prop in known}
    if node.get("format") == "date":
        return TODAY
    if "enum" in node:
        return node["enum"][0]
    return {"string": "Schema", "integer": 1, "boolean": True, "array": []}.get(kind, "Schema")


def _conforms(schema: dict, node: dict, value, where: str) -> list[str]:
    """Whether `value` has what the response schema promises: its required keys, recursively."""
    node = _resolve(schema, node)
    if node.get("type") == "array":
        return [f for item in value for f in _conforms(schema, node["items"], item, f"{where}[]")]
    if node.get("type") == "object":
        missing = [f"{where}.{key} missing" for key in node.get("required", []) if key not in value]
        return missing + [
            f for key, sub in node.get("properties", {}).items() if key in value and value[key] is not None
            for f in _conforms(schema, sub, value[key], f"{where}.{key}")
        ]
    return []


def test_it_works_for_every_operation_built_from_the_schema(client, federation, members, tokens):
    make_intake_form(federation.province1, name="Afdelingsformulier", kind="department")
    schema = client.get("/api/v1/openapi.json").json()
    validate(schema)
    relation = members["d11a"]
    ids = {
        "environment_id": federation.department11.pk,
        "relation_id": relation.pk,
        "function_id": Function.objects.get(relation=relation).pk,
    }
    api = ApiClient(tokens["d11_write"][1])
    failures, done = [], 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            url = path.format(**ids)
            known = {
                # A person's card needs a surname (the service says so; the schema cannot).
                "last_name": "Schema",
                "environment": federation.department11.pk,
                # A second function for an existing card; a membership as a new card's first one.
                "function_type": "department_chair" if url.endswith("/functions") else "department_member",
                "values": {"first_name": "Eva", "last_name": "Evers", "birth_date": "2001-02-03", "email": "eva@example.org"},
            }
            body = None
            if "requestBody" in operation:
                body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
                body = _example(schema, body_schema, "", known)
            with transaction.atomic():
                response = api.get(url) if method == "get" else api.send(method, url, body)
                transaction.set_rollback(True)
            status = str(response.status_code)
            if not status.startswith("2"):
                failures.append(f"{method.upper()} {url} {body}: {status} {response.content[:300]!r}")
                continue
            answer = operation["responses"][status]["content"]["application/json"]["schema"]
            failures += [f"{method.upper()} {url}: {f}" for f in _conforms(schema, answer, response.json(), "")]
            done += 1
    assert not failures, "\n".join(failures)
    assert done == sum(len(ops) for ops in schema["paths"].values())
