"""The topology diagram as data: producers -> topics/exchanges -> subscriptions/queues -> consumers.

Built from the manifest (logical channels and native declarations) so it works before
any compile module exists; renderers (mermaid, dot, svg) only read this model.
Dead-letter, forward and reply edges are kinds of their own so every renderer can
draw them distinctly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from brokerform.model.units import format_duration_ms

HUB_KINDS = {"exchange", "topic"}
FLOW_EDGES = {"publish", "route", "consume"}
DASHED_EDGES = {"dead-letter", "forward", "reply", "alternate"}


@dataclass
class Node:
    id: str
    label: str
    kind: str  # service | exchange | topic | queue | subscription | dlq | reply
    target: str | None = None
    detail: str = ""


@dataclass
class Edge:
    source: str
    dest: str
    kind: str  # publish | route | consume | dead-letter | forward | reply | alternate
    label: str = ""


@dataclass
class Diagram:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    targets: dict[str, str] = field(default_factory=dict)  # target name -> broker type

    def add_node(self, node: Node) -> Node:
        existing = self.nodes.get(node.id)
        if existing is None:
            self.nodes[node.id] = node
            return node
        if node.kind == "dlq" and existing.kind == "queue":
            existing.kind = "dlq"
        if not existing.detail and node.detail:
            existing.detail = node.detail
        return existing

    def add_edge(self, edge: Edge) -> None:
        if edge.source == edge.dest:
            return
        if any(e.source == edge.source and e.dest == edge.dest and e.kind == edge.kind for e in self.edges):
            return
        self.edges.append(edge)

    def service(self, name: str) -> str:
        return self.add_node(Node(f"svc:{name}", name, "service")).id

    def resource(self, target: str, name: str, kind: str, detail: str = "", label: str | None = None) -> str:
        return self.add_node(Node(f"{target}:{name}", label or name, kind, target, detail)).id

    def is_empty(self) -> bool:
        return not self.nodes


def filter_text(flt) -> str:
    if flt is None:
        return ""
    if flt.routing_key is not None:
        return flt.routing_key
    if flt.sql is not None:
        return flt.sql
    if flt.headers is not None:
        return ", ".join(f"{k}={v}" for k, v in flt.headers.items())
    if flt.attributes is not None:
        return ", ".join(f"{k}={v}" for k, v in flt.attributes.items())
    return ""


def _hub_kind(broker: str) -> str:
    return "exchange" if broker == "rabbitmq" else "topic"


def _dead_letter_label(channel) -> str:
    label = "dead-letter"
    if channel.retry is not None:
        tiers = ", ".join(format_duration_ms(d) for d in channel.retry.delays_ms())
        label += f" after {channel.retry.attempts} retries ({tiers})"
    elif channel.dead_letter and channel.dead_letter.max_deliveries:
        label += f" after {channel.dead_letter.max_deliveries} deliveries"
    return label


def add_channel(diagram: Diagram, name: str, channel, broker: str) -> None:
    target = channel.target
    base = channel.name or name
    pattern = channel.pattern
    sinks: list[str] = []  # where messages wait for consumers (DLQ edges start here)
    if pattern == "pubsub":
        hub = diagram.resource(target, base, _hub_kind(broker), f"channel · {pattern}")
        for producer in channel.producers:
            diagram.add_edge(Edge(diagram.service(producer), hub, "publish"))
        for sub_name, sub in channel.subscriptions.items():
            detail = "consumer group" if broker == "kafka" else "subscription"
            sub_id = diagram.resource(target, f"{base}/{sub_name}", "subscription", detail, label=sub_name)
            diagram.add_edge(Edge(hub, sub_id, "route", filter_text(sub.filter)))
            for consumer in sub.consumers:
                diagram.add_edge(Edge(sub_id, diagram.service(consumer), "consume"))
            sinks.append(sub_id)
        for consumer in channel.consumers:
            diagram.add_edge(Edge(hub, diagram.service(consumer), "consume"))
    else:
        kind = "topic" if broker == "kafka" else "queue"
        queue = diagram.resource(target, base, kind, f"channel · {pattern}")
        for producer in channel.producers:
            diagram.add_edge(Edge(diagram.service(producer), queue, "publish"))
        for consumer in channel.consumers:
            diagram.add_edge(Edge(queue, diagram.service(consumer), "consume"))
        sinks.append(queue)
        if pattern == "request-reply" and channel.reply is not None:
            reply_name = channel.reply.queue or f"{base}.reply"
            reply = diagram.resource(target, reply_name, "reply", f"reply · ttl {format_duration_ms(channel.reply.ttl)}")
            for consumer in channel.consumers:
                diagram.add_edge(Edge(diagram.service(consumer), reply, "reply", "reply"))
            for producer in channel.producers:
                diagram.add_edge(Edge(reply, diagram.service(producer), "reply", "reply"))
    dead_letter = channel.dead_letter
    if dead_letter is not None and dead_letter.enabled:
        dlq = diagram.resource(target, dead_letter.target or f"{base}.dlq", "dlq", "dead-letter queue")
        for sink in sinks:
            diagram.add_edge(Edge(sink, dlq, "dead-letter", _dead_letter_label(channel)))


def add_rabbitmq_native(diagram: Diagram, name: str, target) -> None:
    for xname, exchange in target.exchanges.items():
        diagram.resource(name, xname, "exchange", f"{exchange.type} exchange")
        if exchange.alternate_exchange:
            alt = diagram.resource(name, exchange.alternate_exchange, "exchange")
            diagram.add_edge(Edge(f"{name}:{xname}", alt, "alternate", "unroutable"))
    for qname, queue in target.queues.items():
        diagram.resource(name, qname, "queue", f"{queue.type} queue" if "type" in queue.model_fields_set else "queue")
    for binding in target.bindings:
        source = diagram.resource(name, binding.source, "exchange")
        dest_kind = "exchange" if binding.destination_type == "exchange" else "queue"
        dest = diagram.resource(name, binding.destination, dest_kind)
        diagram.add_edge(Edge(source, dest, "route", binding.routing_key))
    for qname, queue in target.queues.items():
        if queue.dead_letter_exchange:
            dlx = diagram.resource(name, queue.dead_letter_exchange, "exchange", "dead-letter exchange")
            diagram.add_edge(Edge(f"{name}:{qname}", dlx, "dead-letter", queue.dead_letter_routing_key or "dead-letter"))


def add_kafka_native(diagram: Diagram, name: str, target) -> None:
    for tname, topic in target.topics.items():
        detail = f"{topic.partitions} partitions" if topic.partitions else "topic"
        diagram.resource(name, tname, "topic", detail)
    for sname, service in target.services.items():
        svc = diagram.service(sname)
        for topic in service.produces:
            diagram.add_edge(Edge(svc, diagram.resource(name, topic, "topic"), "publish"))
        for topic in service.consumes:
            diagram.add_edge(Edge(diagram.resource(name, topic, "topic"), svc, "consume", service.group or ""))


def _rule_text(rules: dict) -> str:
    parts = []
    for rule in rules.values():
        if rule.sql is not None:
            parts.append(rule.sql.expression)
        elif rule.correlation is not None:
            corr = rule.correlation
            fields = {k: v for k, v in corr.model_dump(exclude={"properties", "action"}).items() if v is not None}
            fields.update(corr.properties)
            parts.append(", ".join(f"{k}={v}" for k, v in fields.items()))
    return " | ".join(parts)


def add_servicebus_native(diagram: Diagram, name: str, target) -> None:
    for qname in target.queues:
        diagram.resource(name, qname, "queue", "queue")
    for tname, topic in target.topics.items():
        hub = diagram.resource(name, tname, "topic", "topic")
        for sname, sub in topic.subscriptions.items():
            sub_id = diagram.resource(name, f"{tname}/{sname}", "subscription", "subscription", label=sname)
            diagram.add_edge(Edge(hub, sub_id, "route", _rule_text(sub.rules)))
            _servicebus_forwards(diagram, name, sub_id, sub)
    for qname, queue in target.queues.items():
        _servicebus_forwards(diagram, name, f"{name}:{qname}", queue)


def _servicebus_forwards(diagram: Diagram, target: str, source: str, entity) -> None:
    if entity.forward_to:
        dest = _existing_or_queue(diagram, target, entity.forward_to)
        diagram.add_edge(Edge(source, dest, "forward", "forward"))
    if entity.forward_dead_lettered_messages_to:
        dest = _existing_or_queue(diagram, target, entity.forward_dead_lettered_messages_to, "dlq")
        diagram.add_edge(Edge(source, dest, "dead-letter", "dead letters"))


def _existing_or_queue(diagram: Diagram, target: str, name: str, kind: str = "queue") -> str:
    node_id = f"{target}:{name}"
    if node_id in diagram.nodes:
        if kind == "dlq":
            diagram.add_node(Node(node_id, name, "dlq", target))
        return node_id
    return diagram.resource(target, name, kind)


def add_aws_native(diagram: Diagram, name: str, target) -> None:
    for tname, topic in target.topics.items():
        diagram.resource(name, tname, "topic", "SNS FIFO topic" if topic.fifo else "SNS topic")
    for qname, queue in target.queues.items():
        diagram.resource(name, qname, "queue", "SQS FIFO queue" if queue.fifo else "SQS queue")
    for sname, sub in target.subscriptions.items():
        topic = diagram.resource(name, sub.topic, "topic", "SNS topic")
        if sub.protocol == "sqs":
            dest = diagram.resource(name, sub.endpoint, "queue", "SQS queue")
        else:
            dest = diagram.service(f"{sub.protocol}:{sub.endpoint}")
        label = ", ".join(f"{k}={v}" for k, v in (sub.filter_policy or {}).items())
        diagram.add_edge(Edge(topic, dest, "route", label))
        if sub.dead_letter_queue:
            dlq = _existing_or_queue(diagram, name, sub.dead_letter_queue, "dlq")
            diagram.add_edge(Edge(topic, dlq, "dead-letter", f"undeliverable ({sname})"))
    for qname, queue in target.queues.items():
        if queue.redrive is not None:
            dlq = _existing_or_queue(diagram, name, queue.redrive.dead_letter_queue, "dlq")
            diagram.add_edge(Edge(f"{name}:{qname}", dlq, "dead-letter",
                                  f"after {queue.redrive.max_receive_count} receives"))


NATIVE_BUILDERS = {
    "rabbitmq": add_rabbitmq_native,
    "kafka": add_kafka_native,
    "azure-servicebus": add_servicebus_native,
    "aws": add_aws_native,
}


def build_diagram(manifest) -> Diagram:
    """The whole topology of a manifest: channels first, then native declarations."""
    diagram = Diagram()
    for tname, target in manifest.targets.items():
        diagram.targets[tname] = target.type
    for cname, channel in manifest.channels.items():
        broker = manifest.targets[channel.target].type if channel.target in manifest.targets else "rabbitmq"
        add_channel(diagram, cname, channel, broker)
    for tname, target in manifest.targets.items():
        NATIVE_BUILDERS[target.type](diagram, tname, target)
    return diagram
