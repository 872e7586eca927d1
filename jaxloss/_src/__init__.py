"""jaxloss's implementation. Nothing here is public API; the faces (``jaxloss.losses``, ``jaxloss.nn``,
``jaxloss.optax_losses``) and the top-level wrappers are.

Layers (each imports only from the layers above it in this list; ``tests/test_layering.py`` checks it):

1. ``core``: reductions, validation, the registry, the custom-AD one-pass kernel machinery, norms and shared
   numerics. Imports no family.
2. ``families``: one module (or one small package) per loss family, importing only ``core`` (and, inside a
   package, its own modules). Families never import each other.
3. the faces: ``jaxloss.losses``, ``jaxloss.nn``, ``jaxloss.optax_losses`` and ``_src.wrappers``; they import,
   bind and wrap, and hold no loss math.
4. ``catalogue``: every registered entry, once the faces are imported.
5. ``jaxloss.cli``: the ``jaxloss`` command (``list``, ``check``, ``bench``, ``demo``).
"""
