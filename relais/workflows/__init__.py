"""Routes: the route file format, its validation and compilation, and the standard routes."""
