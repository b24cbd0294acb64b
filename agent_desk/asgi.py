"""ASGI entry point: ``uvicorn agent_desk.asgi:app``."""
from .app import create_asgi

app = create_asgi()
