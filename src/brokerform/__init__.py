"""brokerform: topology-as-code for message brokers.

Data flow: manifest (YAML + jinja2) -> model (pydantic) -> lint -> compile to
native resources -> provider.read (live) -> plan (diff) -> apply (executor) ->
report/export.
"""

__version__ = "0.1.0"
