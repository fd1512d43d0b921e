from brokerform.lint.model import Issue, Rule


class ServiceBusDefaultRuleBesideFilters(Rule):
    id = "BF609"
    name = "servicebus-default-rule-beside-filters"
    title = "$Default rule kept beside custom filters"
    severity = "warning"
    rationale = """Every new subscription gets the `$Default` rule (1=1, match everything). Rules are
    OR-ed, so keeping it beside custom filters makes the filters useless: the subscription receives
    every message on the topic."""
    fix = "Remove `keep_default_rule: true` from subscriptions that declare rules."
    source = "Azure Service Bus: topic filters and actions"
    url = "https://learn.microsoft.com/en-us/azure/service-bus-messaging/topic-filters"
    brokers = ("azure-servicebus",)

    def check(self, ctx):
        for tname, target in ctx.targets("azure-servicebus"):
            for topic_name, topic in target.topics.items():
                for sname, sub in topic.subscriptions.items():
                    if sub.rules and sub.keep_default_rule:
                        path = ("targets", tname, "topics", topic_name, "subscriptions", sname)
                        yield Issue(path + ("keep_default_rule",),
                                    f"subscription {sname!r} keeps $Default (1=1) beside {len(sub.rules)} filter(s): "
                                    "it receives every message", resource=path)
