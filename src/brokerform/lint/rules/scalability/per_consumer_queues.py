import re
from collections import defaultdict

from brokerform.lint.model import Issue, Rule
from brokerform.lint.options import count

_NUMBERED = re.compile(r"^(?P<stem>.*?)[-_.]?(?P<n>\d+)$")


def numbered_groups(names):
    """Names that differ only by a trailing number (worker-1, worker-2, ...), grouped by stem."""
    groups: dict[str, list[str]] = defaultdict(list)
    for name in names:
        match = _NUMBERED.match(name)
        if match and match.group("stem"):
            groups[match.group("stem")].append(name)
    return groups


class PerConsumerQueues(Rule):
    id = "BF402"
    name = "per-consumer-queues"
    title = "One queue or subscription per consumer instance"
    severity = "warning"
    rationale = """Queues named worker-1, worker-2, worker-3 are per-instance queues: scaling out needs a
    topology change, each instance gets a copy of every message, and a dead instance leaves a queue
    filling up. Competing consumers on one queue scale by just starting more instances."""
    fix = "Use one queue (pattern: competing-consumers) shared by all instances of a service."
    source = "brokerform design brief: Anti-patterns to Avoid (Queue proliferation)"
    url = "https://www.enterpriseintegrationpatterns.com/patterns/messaging/CompetingConsumers.html"
    options = {"min_instances": count(3, minimum=2)}

    def check(self, ctx):
        least = ctx.options["min_instances"]
        for name, channel, _ in ctx.channels():
            for stem, names in numbered_groups(channel.subscriptions).items():
                if len(names) >= least:
                    yield Issue(("channels", name, "subscriptions", names[0]),
                                f"subscriptions {', '.join(names)} look like one per consumer instance of {stem!r}",
                                resource=("channels", name))
        for tname, target in ctx.targets("rabbitmq", "aws", "azure-servicebus"):
            for stem, names in numbered_groups(target.queues).items():
                if len(names) >= least:
                    yield Issue(("targets", tname, "queues", names[0]),
                                f"queues {', '.join(names)} look like one per consumer instance of {stem!r}")
