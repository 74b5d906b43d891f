"""Server- or user-supplied text made safe for one line of a terminal."""
import unicodedata


def printable(text, limit=None):
    """``text`` without control or format characters (CR/LF, terminal escapes, bidi overrides), and cut to
    ``limit`` characters with '…' when longer."""
    text = ''.join(ch for ch in str(text) if unicodedata.category(ch) not in ('Cc', 'Cf', 'Zl', 'Zp'))
    return text if limit is None or len(text) <= limit else text[:limit] + '…'
