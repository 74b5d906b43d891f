"""The build artifact: a valid zip of any size, streamed from one precomputed block in constant memory."""
import hashlib
import struct
import zlib
from functools import lru_cache

DEFAULT_ARTIFACT_SIZE = 1 << 20
_BLOCK_SIZE = 1 << 20
_ENTRY = b"drop/payload.bin"
_DOS_TIME, _DOS_DATE = 9 << 11, ((2024 - 1980) << 9) | (1 << 5) | 2
_ZIP_OVERHEAD = 30 + 16 + 46 + 22 + 2 * len(_ENTRY)   # local header, data descriptor, central header, end


@lru_cache(maxsize=1)
def _block():
    return hashlib.shake_256(b"devops-token emulator artifact").digest(_BLOCK_SIZE)


def _payload(size):
    view = memoryview(_block())
    full, rest = divmod(size, _BLOCK_SIZE)
    for _ in range(full):
        yield view
    if rest:
        yield view[:rest]


def artifact_chunks(size):
    """The artifact body, exactly ``size`` bytes: a stored zip holding ``drop/payload.bin`` (CRC in a data
    descriptor, so the stream needs one pass and constant memory). Below the zip overhead: raw bytes."""
    if size <= _ZIP_OVERHEAD:
        yield from _payload(size)
        return
    data_size = size - _ZIP_OVERHEAD
    yield struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x0008, 0, _DOS_TIME, _DOS_DATE, 0, 0, 0,
                      len(_ENTRY), 0) + _ENTRY
    crc = 0
    for chunk in _payload(data_size):
        crc = zlib.crc32(chunk, crc)
        yield chunk
    descriptor = struct.pack("<IIII", 0x08074B50, crc, data_size, data_size)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x0008, 0, _DOS_TIME, _DOS_DATE, crc,
                          data_size, data_size, len(_ENTRY), 0, 0, 0, 0, 0, 0) + _ENTRY
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), 30 + len(_ENTRY) + data_size + 16, 0)
    yield descriptor + central + end


def artifact_sha256(size):
    """The sha256 hex digest of the artifact body the emulator serves for ``size`` bytes."""
    digest = hashlib.sha256()
    for chunk in artifact_chunks(size):
        digest.update(chunk)
    return digest.hexdigest()
