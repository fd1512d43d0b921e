"""`brokerform import <broker>`: write a manifest from what a live broker has."""

from __future__ import annotations

import click

from brokerform.cli import LazyGroup

IMPORTERS = {
    "rabbitmq": ("brokerform.providers.rabbitmq.importer:command", "Import a RabbitMQ vhost."),
    "kafka": ("brokerform.providers.kafka.importer:command", "Import Kafka topics, ACLs and users."),
    "azure-servicebus": ("brokerform.providers.servicebus.importer:command", "Import a Service Bus namespace."),
    "aws": ("brokerform.providers.aws.importer:command", "Import SQS queues and SNS topics."),
}


@click.group("import", cls=LazyGroup, lazy=IMPORTERS)
def import_group() -> None:
    """Write a manifest (target block included) from a live broker; plan then shows no changes."""
