"""The portal's routers, one module per area (see :mod:`cocity.web.deps` for how to write one)."""
