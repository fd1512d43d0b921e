from brokerform.lint.model import Issue, Rule


class NoOwner(Rule):
    id = "BF502"
    name = "no-owner"
    title = "Channel without an owner"
    severity = "warning"
    rationale = """When a queue backs up at 3 a.m., on-call needs to know which team owns it. Channels
    inherit the manifest's `metadata.owner`; set `owner` on the channel when another team owns it."""
    fix = "Set `owner:` on the channel, or `metadata.owner` for the whole manifest."
    source = "brokerform design brief: Monitoring Framework (alert mechanisms need a recipient)"
    url = "https://sre.google/sre-book/monitoring-distributed-systems/"

    def check(self, ctx):
        if ctx.manifest.metadata.owner:
            return
        for name, channel, _ in ctx.channels():
            if not channel.owner:
                yield Issue(("channels", name), f"channel {name!r} has no owner (nor does the manifest)")
