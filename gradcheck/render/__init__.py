"""Renderers: results in, text/JSON/HTML out. They read the data model, never the reverse."""
