"""Manifests with names that collide once made identifiers (shared by report and export tests)."""

COLLIDING_CHANNELS = """\
brokerform: 1
targets:
  rmq: {type: rabbitmq, url: "http://127.0.0.1:1", scope: {vhost: v1}}
channels:
  "orders:created": {target: rmq, pattern: point-to-point, producers: [a], consumers: [b]}
  "orders/created": {target: rmq, pattern: point-to-point, producers: [a], consumers: [b]}
  "orders created": {target: rmq, pattern: point-to-point, producers: [a], consumers: [b]}
  "orders_created": {target: rmq, pattern: point-to-point, producers: [a], consumers: [b]}
"""
