"""Placeholder: to be written."""
from emulator.core import Response


class EntraService:
    identity_endpoint = None

    def __init__(self, emulator):
        self.emulator = emulator

    def handle(self, request):
        return Response.text(404, "not emulated yet")
