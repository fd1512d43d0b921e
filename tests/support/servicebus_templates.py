"""Translate the ARM JSON and Bicep Service Bus declarations of the shared corpus into deployments.

Just enough of each language for the corpus (tests only, not a product feature):

- ARM JSON: parameters (defaultValue or given values), variables, nested child resources
  with short types (`Queues`, `Subscriptions`, ...), `[...]` expressions with parameters(),
  variables(), concat(), resourceId() and resourceGroup().location; string-typed booleans
  and numbers are converted the way the ARM deployment engine does for these schemas.
- Bicep: param/var/resource/output statements, decorators, objects, arrays, string
  interpolation, `parent:`, `[for x in range(a, n): {...}]` and `[for x in array: {...}]`,
  `+`, member access and resourceGroup().location.

A deployment is `Deployment(types, names, body)`: e.g. types ("namespaces", "topics",
"subscriptions") and names ("ns", "t", "s"); `deploy()` PUTs them through the real SDK.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCATION = "westeurope"
PROVIDER = "microsoft.servicebus/"


@dataclass
class Deployment:
    types: tuple[str, ...]
    names: tuple[str, ...]
    body: dict[str, Any]


# -- ARM JSON ---------------------------------------------------------------------------
class ArmTemplate:
    def __init__(self, text: str, parameters: dict[str, Any]):
        self.doc = json.loads(text)
        self.params = {name: parameters[name] if name in parameters else spec.get("defaultValue")
                       for name, spec in self.doc.get("parameters", {}).items()}
        missing = [n for n, v in self.params.items() if v is None]
        if missing:
            raise ValueError(f"parameters without a value: {missing}")
        self.params = {k: self.value(v) for k, v in self.params.items()}
        self.variables = self.doc.get("variables", {})

    def deployments(self) -> list[Deployment]:
        out: list[Deployment] = []
        for resource in self.doc.get("resources", []):
            self._collect(resource, (), (), out)
        return sorted(out, key=lambda d: len(d.types))

    def _collect(self, resource: dict, types: tuple, names: tuple, out: list[Deployment]) -> None:
        rtype = self.value(resource["type"])
        name = self.value(resource["name"])
        if rtype.lower().startswith(PROVIDER):
            all_types = tuple(rtype.split("/")[1:])
            all_names = tuple(name.split("/"))
        else:
            all_types, all_names = types + (rtype,), names + (name,)
        body = {k: self.value(v) for k, v in resource.items() if k in ("properties", "sku", "location")}
        out.append(Deployment(tuple(t.lower() for t in all_types), all_names, coerce(body)))
        for child in resource.get("resources", []):
            self._collect(child, all_types, all_names, out)

    def value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, str) and value.startswith("[") and value.endswith("]") and not value.startswith("[["):
            return self.expression(value[1:-1])
        return value

    def expression(self, text: str) -> Any:
        parser = _ArmExpression(text, self)
        result = parser.parse()
        return result


class _ArmExpression:
    TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+)|(?P<id>[A-Za-z_][A-Za-z0-9_]*)|(?P<p>[(),.]))")

    def __init__(self, text: str, template: ArmTemplate):
        self.tokens = [(m.lastgroup, m.group(m.lastgroup)) for m in self.TOKEN.finditer(text)]
        self.pos = 0
        self.template = template

    def parse(self) -> Any:
        value = self.primary()
        return value

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return int(text)
        args: list[Any] = []
        assert self.take() == ("p", "(")
        while self.tokens[self.pos] != ("p", ")"):
            args.append(self.primary())
            if self.tokens[self.pos] == ("p", ","):
                self.pos += 1
        self.pos += 1
        value = self.call(text, args)
        while self.pos < len(self.tokens) and self.tokens[self.pos] == ("p", "."):
            self.pos += 1
            value = value[self.take()[1]]
        return value

    def call(self, name: str, args: list[Any]) -> Any:
        name = name.lower()
        if name == "parameters":
            return self.template.params[args[0]]
        if name == "variables":
            return self.template.value(self.template.variables[args[0]])
        if name == "concat":
            return "".join(str(a) for a in args)
        if name == "resourceid":
            return "/".join(str(a).strip("/") for a in args)
        if name == "resourcegroup":
            return {"location": LOCATION}
        raise ValueError(f"unsupported ARM function {name}()")


def coerce(value: Any) -> Any:
    """String-typed booleans and integers, as the deployment engine converts them for these schemas."""
    if isinstance(value, dict):
        return {k: coerce(v) for k, v in value.items()}
    if isinstance(value, list):
        return [coerce(v) for v in value]
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if isinstance(value, str) and re.fullmatch(r"\d+", value):
        return int(value)
    return value


# -- Bicep -----------------------------------------------------------------------------------
_BICEP_TOKEN = re.compile(
    r"(?P<ws>[ \t\r]+)|(?P<comment>//[^\n]*)|(?P<nl>\n)|(?P<str>'(?:\\.|[^'\\])*')|(?P<num>\d+)"
    r"|(?P<id>[A-Za-z_][A-Za-z0-9_]*)|(?P<p>[{}\[\]():,.+=@-])"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    while pos < len(text):
        m = _BICEP_TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"cannot tokenize Bicep at {text[pos:pos + 30]!r}")
        pos = m.end()
        if m.lastgroup in ("ws", "comment"):
            continue
        out.append((m.lastgroup, m.group()))
    return out


class BicepFile:
    def __init__(self, text: str, parameters: dict[str, Any]):
        self.tokens = _tokens(text)
        self.pos = 0
        self.params: dict[str, Any] = {}
        self.vars: dict[str, Any] = {}
        self.resources: dict[str, tuple[str, Any]] = {}
        self.order: list[str] = []
        self.given = parameters
        self._statements()

    # parsing ---------------------------------------------------------------------------------
    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("eof", "")

    def take(self, text: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if text is not None and token[1] != text:
            raise ValueError(f"expected {text!r}, got {token[1]!r}")
        self.pos += 1
        return token

    def skip_newlines(self) -> None:
        while self.peek()[0] == "nl":
            self.pos += 1

    def _statements(self) -> None:
        while True:
            self.skip_newlines()
            kind, word = self.peek()
            if kind == "eof":
                return
            if word == "@":  # decorator: @name(args)
                self.take()
                self.take()
                self.expression()
                continue
            self.take()
            if word == "param":
                name = self.take()[1]
                self.take()  # type
                default = None
                if self.peek()[1] == "=":
                    self.take()
                    default = self.expression()
                self.params[name] = ("given", self.given[name]) if name in self.given else ("expr", default)
            elif word == "var":
                name = self.take()[1]
                self.take("=")
                self.vars[name] = self.expression()
            elif word == "resource":
                symbol = self.take()[1]
                rtype = self.take()[1][1:-1]
                self.take("=")
                self.resources[symbol] = (rtype, self.expression())
                self.order.append(symbol)
            elif word == "output":
                self.take()
                self.take()
                self.take("=")
                self.expression()
            else:
                raise ValueError(f"unsupported Bicep statement {word!r}")

    def expression(self) -> Any:
        left = self.postfix()
        while self.peek()[1] == "+":
            self.take()
            left = ("+", left, self.postfix())
        return left

    def postfix(self) -> Any:
        node = self.atom()
        while self.peek()[1] in (".", "("):
            if self.take()[1] == ".":
                node = ("member", node, self.take()[1])
            else:
                args = []
                while self.peek()[1] != ")":
                    args.append(self.expression())
                    if self.peek()[1] == ",":
                        self.take()
                self.take(")")
                node = ("call", node, args)
        return node

    def atom(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return ("str", text[1:-1])
        if kind == "num":
            return ("lit", int(text))
        if kind == "id":
            if text in ("true", "false"):
                return ("lit", text == "true")
            return ("ref", text)
        if text == "{":
            entries = []
            while True:
                self.skip_newlines()
                if self.peek()[1] == "}":
                    self.take()
                    return ("object", entries)
                key = self.take()[1]
                key = key[1:-1] if key.startswith("'") else key
                self.take(":")
                entries.append((key, self.expression()))
        if text == "[":
            self.skip_newlines()
            if self.peek()[1] == "for":
                self.take()
                var = self.take()[1]
                self.take("in")
                source = self.expression()
                self.take(":")
                body = self.expression()
                self.skip_newlines()
                self.take("]")
                return ("for", var, source, body)
            items = []
            while True:
                self.skip_newlines()
                if self.peek()[1] == "]":
                    self.take()
                    return ("array", items)
                items.append(self.expression())
                if self.peek()[1] == ",":
                    self.take()
        if text == "(":
            inner = self.expression()
            self.take(")")
            return inner
        raise ValueError(f"unexpected Bicep token {text!r}")

    # evaluation ---------------------------------------------------------------------------------
    def evaluate(self, node: Any, scope: dict[str, Any]) -> Any:
        tag = node[0]
        if tag == "lit":
            return node[1]
        if tag == "str":
            return re.sub(r"\$\{([^}]*)\}", lambda m: str(self.evaluate(_parse_inline(m.group(1)), scope)), node[1])
        if tag == "object":
            return {k: self.evaluate(v, scope) for k, v in node[1]}
        if tag == "array":
            return [self.evaluate(v, scope) for v in node[1]]
        if tag == "+":
            return self.evaluate(node[1], scope) + self.evaluate(node[2], scope)
        if tag == "ref":
            name = node[1]
            if name in scope:
                return scope[name]
            if name in self.params:
                how, value = self.params[name]
                return value if how == "given" else self.evaluate(value, scope)
            if name in self.vars:
                return self.evaluate(self.vars[name], scope)
            if name in self.resources:
                return {"__symbol__": name}
            raise ValueError(f"unknown Bicep name {name!r}")
        if tag == "member":
            return self.evaluate(node[1], scope)[node[2]]
        if tag == "call":
            fn = node[1][1] if node[1][0] == "ref" else None
            args = [self.evaluate(a, scope) for a in node[2]]
            if fn == "resourceGroup":
                return {"location": LOCATION}
            if fn == "range":
                return list(range(args[0], args[0] + args[1]))
            raise ValueError(f"unsupported Bicep function {fn}()")
        raise ValueError(f"cannot evaluate {tag}")

    def deployments(self) -> list[Deployment]:
        instances: dict[str, list[dict[str, Any]]] = {}
        for symbol in self.order:
            _, node = self.resources[symbol]
            if node[0] == "for":
                _, var, source, body = node
                instances[symbol] = [self.evaluate(body, {var: item}) for item in self.evaluate(source, {})]
            else:
                instances[symbol] = [self.evaluate(node, {})]
        out = []
        for symbol in self.order:
            rtype = self.resources[symbol][0].split("@", 1)[0]
            types = tuple(t.lower() for t in rtype.split("/")[1:])
            for body in instances[symbol]:
                names = self._names(body, instances)
                payload = {k: v for k, v in body.items() if k in ("properties", "sku", "location")}
                out.append(Deployment(types, names, payload))
        return sorted(out, key=lambda d: len(d.types))

    def _names(self, body: dict[str, Any], instances: dict[str, list[dict]]) -> tuple[str, ...]:
        parent = body.get("parent")
        if parent is None:
            return tuple(body["name"].split("/"))
        [parent_body] = instances[parent["__symbol__"]]
        return self._names(parent_body, instances) + (body["name"],)


def _parse_inline(text: str) -> Any:
    reader = BicepFile.__new__(BicepFile)
    reader.tokens = _tokens(text)
    reader.pos = 0
    return reader.expression()


def read_declarations(path: Path, parameters: dict[str, Any]) -> list[Deployment]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return ArmTemplate(text, parameters).deployments()
    return BicepFile(text, parameters).deployments()


# -- deploying through the SDK ---------------------------------------------------------------
def deploy(client, resource_group: str, deployments: list[Deployment]) -> None:
    """PUT every deployment, parents first, with the real SDK (models built from the raw bodies)."""
    from azure.mgmt.servicebus import models as m

    for d in deployments:
        body = d.body
        n = d.names
        kinds = d.types
        if kinds == ("namespaces",):
            sku = dict(body.get("sku") or {"name": "Standard"})
            sku.pop("capacity", None) if sku.get("name") != "Premium" else None
            client.namespaces.begin_create_or_update(
                resource_group, n[0], m.SBNamespace({"location": body.get("location") or LOCATION, "sku": sku,
                                                     "properties": body.get("properties") or {}})).result()
        elif kinds == ("namespaces", "queues"):
            client.queues.create_or_update(resource_group, n[0], n[1], m.SBQueue(_props(body)))
        elif kinds == ("namespaces", "topics"):
            client.topics.create_or_update(resource_group, n[0], n[1], m.SBTopic(_props(body)))
        elif kinds == ("namespaces", "topics", "subscriptions"):
            client.subscriptions.create_or_update(resource_group, n[0], n[1], n[2], m.SBSubscription(_props(body)))
        elif kinds == ("namespaces", "topics", "subscriptions", "rules"):
            client.rules.create_or_update(resource_group, n[0], n[1], n[2], n[3], m.Rule(_props(body)))
        elif kinds == ("namespaces", "authorizationrules"):
            client.namespaces.create_or_update_authorization_rule(resource_group, n[0], n[1],
                                                                  m.SBAuthorizationRule(_props(body)))
        elif kinds == ("namespaces", "queues", "authorizationrules"):
            client.queues.create_or_update_authorization_rule(resource_group, n[0], n[1], n[2],
                                                              m.SBAuthorizationRule(_props(body)))
        elif kinds == ("namespaces", "topics", "authorizationrules"):
            client.topics.create_or_update_authorization_rule(resource_group, n[0], n[1], n[2],
                                                              m.SBAuthorizationRule(_props(body)))
        else:
            raise ValueError(f"unsupported resource type {'/'.join(kinds)}")


def _props(body: dict[str, Any]) -> dict[str, Any]:
    return {"properties": dict(body.get("properties") or {})}
