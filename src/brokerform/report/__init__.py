"""Decision reports: a data model built from the manifest, rendered by jinja2 templates.

`builder.build_report(loaded, options)` gathers everything (channels, diagram, broker
fit, posture, sizing, lint, plan, history) into plain dataclasses (`model.py`);
`render.render_report` turns that into Markdown or self-contained HTML. Keeping the
two apart lets users bring their own templates.
"""
