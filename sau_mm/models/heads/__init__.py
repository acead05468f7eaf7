from .projection_head import ProjectionMLP  # noqa: F401
