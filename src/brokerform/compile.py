"""Compile a validated manifest into the desired native resources of each target.

Logical channels expand into broker-native resources (each provider's `compile.py`
defines the mapping); native declarations pass through. The result is checked for
duplicates and dangling references, with errors pointing at the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from brokerform.errors import ManifestError, Problem, format_path
from brokerform.providers import compile_module
from brokerform.resources import Address, Resource
from brokerform.secrets import references_in

REFERENCES_RESOLVED_AT_APPLY = {
    ("rabbitmq", "user"): ("password",),  # a secret field: compared by hash, set at apply
    ("rabbitmq", "parameter"): ("value",),  # shovel and federation URIs with their passwords
    ("aws", "subscription"): ("endpoint",),  # an HTTPS endpoint's user:password
}
"""Native properties whose `${env:...}`/`${file:...}` references the provider resolves itself;
anywhere else a reference would reach the broker as literal text."""


@dataclass
class DesiredTarget:
    name: str
    type: str
    target: object
    resources: dict[Address, Resource] = field(default_factory=dict)


def compile_manifest(loaded, only: list[str] | tuple[str, ...] | None = None) -> dict[str, DesiredTarget]:
    problems: list[Problem] = []
    result: dict[str, DesiredTarget] = {}
    for name, target in loaded.manifest.targets.items():
        if only and name not in only:
            continue
        channels = {cname: ch for cname, ch in loaded.manifest.channels.items() if ch.target == name}
        module = compile_module(target.type)
        desired = DesiredTarget(name, target.type, target)
        for resource in module.compile_target(name, target, channels, loaded):
            previous = desired.resources.get(resource.address)
            if previous is not None:
                problems.append(
                    Problem(
                        loaded.locate(resource.source, key=True),
                        f"{resource.address.kind} {resource.address.name!r} is declared twice "
                        f"(also at {loaded.locate(previous.source, key=True)})",
                        format_path(resource.source),
                    )
                )
                continue
            desired.resources[resource.address] = resource
        problems += _unresolved_references(desired.resources.values(), target.type, loaded)
        builtin = getattr(module, "BUILTIN", lambda address: False)
        for resource in desired.resources.values():
            for dependency in resource.depends_on:
                if dependency not in desired.resources and not builtin(dependency):
                    problems.append(
                        Problem(
                            loaded.locate(resource.source),
                            f"refers to {dependency.kind} {dependency.name!r}, which is not declared",
                            format_path(resource.source),
                        )
                    )
        result[name] = desired
    if only:
        unknown = [n for n in only if n not in loaded.manifest.targets]
        for name in unknown:
            known = ", ".join(sorted(loaded.manifest.targets)) or "none"
            problems.append(Problem(loaded.locate(("targets",)), f"no target named {name!r} (targets: {known})"))
    if problems:
        raise ManifestError(problems)
    return result


def _unresolved_references(resources, target_type: str, loaded) -> list[Problem]:
    """A reference left in a free-form value (an x-argument, a policy definition, a topic config)
    would be sent as the text `${env:X}`: refuse it where it is declared."""
    problems = []
    for resource in resources:
        allowed = REFERENCES_RESOLVED_AT_APPLY.get((target_type, resource.address.kind), ())
        for path, reference in references_in(resource.properties):
            if path[:1] != () and path[0] in allowed:
                continue
            where = ".".join(str(p) for p in path)
            problems.append(Problem(loaded.locate(resource.source), f"{where}: {reference} "
                                    "is not resolved here: references work in secret fields, in connection "
                                    "settings and names (expanded when the manifest loads), in RabbitMQ "
                                    "parameter values and SNS subscription endpoints; write the value itself", format_path(resource.source)))
    return problems
