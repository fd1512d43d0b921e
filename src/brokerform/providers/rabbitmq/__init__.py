"""The rabbitmq provider."""
