"""The handlers of the emulated Azure DevOps, one module per REST area (core, wit, build, git, graph, release,
audit), as the service and its SDKs group them. A handler is ``handler(call) -> Response``; the route table
that names it is :data:`emulator.devops.routing.ROUTES`."""
