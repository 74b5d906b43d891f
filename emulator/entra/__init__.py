"""Microsoft Entra ID, emulated: :class:`emulator.entra.service.EntraService` and one module per concern
(discovery, the token endpoint's grants, client authentication, device codes, managed identity, tokens)."""
