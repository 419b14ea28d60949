"""L4, tools: image and index builders, seeding a registry from layouts and generated images,
and manifest-tool's job (push a manifest list from a YAML spec, inspect one).
"""
