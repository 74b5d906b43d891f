"""Azure DevOps Services, emulated (see :mod:`emulator.devops.service` for what a request meets, in order).

One module per concern: :mod:`.service` (the pipeline and the Python control API), :mod:`.routing` (the route
table and api-version rules), :mod:`.auth`, :mod:`.faults`, :mod:`.controls` (the control API over HTTP),
:mod:`.call` (what a handler receives), :mod:`.errors`, :mod:`.model` (identities and synthetic data),
:mod:`.work_items` (JSON Patch, WIQL), :mod:`.artifacts` (the zip stream), and :mod:`.areas` (the handlers,
one module per REST area).
"""
