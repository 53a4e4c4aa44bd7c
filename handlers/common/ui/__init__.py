"""The web pages' one look: a Jinja2 layout, one stylesheet (light and dark) and SVG icons."""
