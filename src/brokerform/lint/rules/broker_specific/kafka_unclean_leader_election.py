from brokerform.lint.model import Issue, Rule


class KafkaUncleanLeaderElection(Rule):
    id = "BF613"
    name = "kafka-unclean-leader-election"
    title = "Kafka unclean leader election enabled"
    severity = "warning"
    rationale = """With unclean.leader.election.enable=true an out-of-sync replica may become leader
    after a failure, and the messages it missed are lost for good: availability bought with silent
    data loss."""
    fix = "Remove `unclean.leader.election.enable` (default false) from topic configs."
    source = "Apache Kafka documentation: unclean.leader.election.enable"
    url = "https://kafka.apache.org/documentation/#topicconfigs_unclean.leader.election.enable"
    brokers = ("kafka",)

    def check(self, ctx):
        for tname, target in ctx.targets("kafka"):
            for topic_name, topic in target.topics.items():
                value = topic.configs.get("unclean.leader.election.enable")
                if value is True or str(value).lower() == "true":
                    yield Issue(("targets", tname, "topics", topic_name, "configs", "unclean.leader.election.enable"),
                                f"topic {topic_name!r} allows unclean leader election (data loss on failover)",
                                resource=("targets", tname, "topics", topic_name))
