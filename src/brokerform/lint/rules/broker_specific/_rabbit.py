"""RabbitMQ policy helpers: which policies apply to which queues."""

from __future__ import annotations

from brokerform.lint.context import matches

QUEUE_KINDS = {"classic": "classic_queues", "quorum": "quorum_queues", "stream": "streams"}


def all_policies(target):
    """(kind, name, policy) for policies and operator policies."""
    for kind in ("policies", "operator_policies"):
        for name, policy in getattr(target, kind).items():
            yield kind, name, policy


def applies_to_queue(policy, queue_name: str, queue_type: str) -> bool:
    if policy.apply_to not in ("queues", "all", QUEUE_KINDS.get(queue_type)):
        return False
    return matches(policy.pattern, queue_name)
