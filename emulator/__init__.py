"""A loopback emulator of Microsoft Entra ID, Azure Resource Manager and Azure DevOps.

It exists so the real ``az`` binary and this extension can be tested end to end on a machine
that reaches no Azure service. Everything listens on 127.0.0.1 over HTTPS (a throwaway test CA,
exported through ``REQUESTS_CA_BUNDLE``), and every server stops by itself: after ``max_seconds``
or ``max_requests``, or when its owner calls :meth:`Emulator.stop`.

Use it from Python::

    with Emulator(workdir) as emu:
        emu.login_url, emu.arm_url, emu.devops_url, emu.ca_bundle

or from a shell (the README demo and the benchmarks do): ``python -m emulator --state-file F``.
"""
from emulator.app import Emulator  # noqa: F401
