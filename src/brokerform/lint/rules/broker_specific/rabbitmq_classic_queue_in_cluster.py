from brokerform.lint.model import Issue, Rule


class RabbitmqClassicQueueInCluster(Rule):
    id = "BF607"
    name = "rabbitmq-classic-queue-in-cluster"
    title = "Durable classic queue in a multi-node cluster"
    severity = "info"
    rationale = """Classic queues live on one node: when that node is down the queue is unavailable and
    its messages are at risk. In a cluster, quorum queues replicate data and survive a node loss;
    they are the default choice for durable data that matters."""
    fix = "Use `type: quorum` (or vhost `default_queue_type: quorum`) for durable queues in clusters."
    source = "RabbitMQ documentation: Quorum Queues (use cases)"
    url = "https://www.rabbitmq.com/docs/quorum-queues#use-cases"
    brokers = ("rabbitmq",)

    def check(self, ctx):
        for tname, target in ctx.targets("rabbitmq"):
            ha = target.high_availability
            if ha is None or not ha.cluster_nodes or ha.cluster_nodes < 2:
                continue
            default_type = (target.vhost.default_queue_type if target.vhost else None) or "classic"
            for qname, queue in target.queues.items():
                queue_type = queue.type if "type" in queue.model_fields_set else default_type
                if queue_type == "classic" and queue.durable and not queue.exclusive and not queue.auto_delete:
                    yield Issue(("targets", tname, "queues", qname),
                                f"classic queue {qname!r} is not replicated across the {ha.cluster_nodes}-node cluster")
