from brokerform.lint.model import Issue, Rule


class NoContact(Rule):
    id = "BF503"
    name = "no-contact"
    title = "Owner without contact details"
    severity = "info"
    rationale = """An owner name alone does not page anyone. A contact (on-call alias, chat channel)
    on the channel or in `metadata.contact` tells operators where to escalate."""
    fix = "Set `contact:` on the channel or `metadata.contact` (e.g. '#orders-oncall')."
    source = "brokerform design brief: Monitoring Framework (Alerts)"
    url = "https://sre.google/sre-book/being-on-call/"

    def check(self, ctx):
        if ctx.manifest.metadata.contact:
            return
        for name, channel, _ in ctx.channels():
            if not channel.contact:
                yield Issue(("channels", name), f"channel {name!r} has no contact (nor does the manifest)")
