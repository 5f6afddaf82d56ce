"""``template.yaml`` read the way SAM reads it: each function's handler, code, environment
(Globals merged in, intrinsics resolved against local names) and API routes.

One reader for the tests and the local stack, so neither keeps a second list of functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    iam: bool


@dataclass(frozen=True)
class Function:
    logical_id: str
    handler: str
    code_dir: Path
    properties: dict[str, Any]
    routes: tuple[Route, ...] = field(default=())

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@cache
def load(path: Path = TEMPLATE) -> dict[str, Any]:
    document: dict[str, Any] = cfn_yaml.load(str(path))
    return document


def parameter_defaults(document: dict[str, Any]) -> dict[str, str]:
    return {name: str(spec.get("Default", "")) for name, spec in document.get("Parameters", {}).items()}


def _default_auth_is_iam(document: dict[str, Any], api_id: str) -> bool:
    api = document["Resources"].get(api_id, {})
    auth = api.get("Properties", {}).get("Auth", {})
    return bool(auth.get("DefaultAuthorizer") == "AWS_IAM")


def functions(document: dict[str, Any] | None = None) -> list[Function]:
    document = document or load()
    found = []
    for logical_id, resource in document["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        routes = []
        for event in props.get("Events", {}).values():
            if event.get("Type") != "Api":
                continue
            ev = event["Properties"]
            api_id = ev.get("RestApiId", {}).get("Ref", "")
            authorizer = ev.get("Auth", {}).get("Authorizer")
            iam = authorizer == "AWS_IAM" or (authorizer is None and _default_auth_is_iam(document, api_id))
            routes.append(Route(method=ev["Method"].upper(), path=ev["Path"], iam=iam))
        found.append(
            Function(
                logical_id=logical_id,
                handler=props["Handler"],
                code_dir=ROOT / props["CodeUri"],
                properties=dict(props),
                routes=tuple(routes),
            )
        )
    return found


def function(logical_id: str) -> Function:
    for candidate in functions():
        if candidate.logical_id == logical_id:
            return candidate
    raise KeyError(logical_id)


def _truth(expression: Any, names: dict[str, str]) -> bool:
    ((key, arg),) = expression.items()
    if key == "Fn::Equals":
        return bool(resolve(arg[0], names) == resolve(arg[1], names))
    if key == "Fn::Not":
        return not _truth(arg[0], names)
    if key == "Fn::And":
        return all(_truth(a, names) for a in arg)
    if key == "Fn::Or":
        return any(_truth(a, names) for a in arg)
    if key == "Condition":
        return names[f"Condition:{arg}"] == "true"
    raise ValueError(f"cannot evaluate condition {expression!r}")


def with_conditions(names: dict[str, str], document: dict[str, Any] | None = None) -> dict[str, str]:
    """``names`` plus ``Condition:<name>`` = "true"/"false" for each of the template's conditions."""
    document = document or load()
    result = dict(names)
    for name, expression in document.get("Conditions", {}).items():
        result[f"Condition:{name}"] = "true" if _truth(expression, result) else "false"
    return result


def resolve(value: Any, names: dict[str, str]) -> Any:
    """Evaluate the intrinsics the template uses in environments against local ``names``
    (logical ids and parameters to physical values; ``X.Arn`` for ``GetAtt``)."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            if arg == "AWS::NoValue":
                return None
            return names[arg]
        if key == "Fn::GetAtt":
            target = ".".join(arg) if isinstance(arg, list) else arg
            return names[target]
        if key == "Fn::Sub":
            text = arg if isinstance(arg, str) else arg[0]
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(names[m.group(1)]), text)
        if key == "Fn::If":
            name, when_true, when_false = arg
            return resolve(when_true if names[f"Condition:{name}"] == "true" else when_false, names)
    if isinstance(value, (str, int, float, bool)):
        return str(value)
    raise ValueError(f"cannot resolve {value!r}")


def environment(fn: Function, names: dict[str, str], document: dict[str, Any] | None = None) -> dict[str, str]:
    """The function's environment variables as Lambda would set them (Globals first)."""
    document = document or load()
    merged: dict[str, Any] = {}
    merged.update(document.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
    merged.update(fn.properties.get("Environment", {}).get("Variables", {}))
    result = {}
    for key, raw in merged.items():
        value = resolve(raw, names)
        if value is not None:
            result[key] = value
    return result


def transformed(document: dict[str, Any] | None = None, region: str = "us-east-1") -> dict[str, Any]:
    """The CloudFormation template SAM deploys: the real SAM translator run on ours, code
    locations swapped for S3 ones as ``sam package`` does."""
    import json
    import os

    from samtranslator.translator.transform import transform

    document = json.loads(json.dumps(document or load(), default=str))
    for logical_id, resource in document["Resources"].items():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://artifacts/{logical_id}.zip"

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    saved = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region
    try:
        result: dict[str, Any] = transform(document, {}, _NoManagedPolicies())
    finally:
        if saved is None:
            os.environ.pop("AWS_DEFAULT_REGION")
        else:
            os.environ["AWS_DEFAULT_REGION"] = saved
    return result
