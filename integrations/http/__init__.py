"""The HTTP door (Litestar): chat, REST resources, OpenAPI, health."""
