from brokerform.lint.model import Issue, Rule
from brokerform.lint.options import count


class RabbitmqManyPriorities(Rule):
    id = "BF408"
    name = "rabbitmq-many-priorities"
    title = "Too many priority levels"
    severity = "warning"
    rationale = """Each priority level of a classic queue is an internal sub-queue with its own memory
    and CPU cost; RabbitMQ recommends at most 5 and rarely more than 10 levels (quorum queues have
    exactly two: normal and high)."""
    fix = "Use up to 5 priority levels (`priority` / `max_priority`)."
    source = "RabbitMQ documentation: Priority Queue Support"
    url = "https://www.rabbitmq.com/docs/priority#resource-usage"
    brokers = ("rabbitmq",)
    options = {"max_levels": count(10)}

    def check(self, ctx):
        limit = ctx.options["max_levels"]
        for name, channel, _ in ctx.channels("rabbitmq"):
            if channel.priority is not None and channel.priority > limit:
                yield Issue(("channels", name, "priority"), f"{channel.priority} priority levels (more than {limit})",
                            resource=("channels", name))
        for tname, target in ctx.targets("rabbitmq"):
            for qname, queue in target.queues.items():
                levels = queue.max_priority or queue.arguments.get("x-max-priority")
                if isinstance(levels, int) and levels > limit:
                    yield Issue(("targets", tname, "queues", qname), f"queue {qname!r} has {levels} priority levels")
