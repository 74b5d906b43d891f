"""A host that belongs to no organization. It answers every request with a small JSON body; the
request log records what reached it, so tests can prove no Authorization header ever did."""
from emulator.server import Response


class OtherHostService:
    def __init__(self, emulator):
        self.emulator = emulator

    def handle(self, request):
        return Response.json(200, {"host": "other", "path": request.path, "method": request.method})
