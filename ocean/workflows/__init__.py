"""Composition root: workflows that combine the core with backbone, downstream and pipelines."""
