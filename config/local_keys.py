"""PII keys for local work (DEBUG on): made once per checkout, never published.

With DEBUG on and no PII_ENCRYPTION_KEYS / PII_HASH_KEY in the environment, settings read them
from `var/local_keys.json` (or the file named by LOCAL_KEYS_FILE), which this module creates on
first use with fresh random keys, readable by its owner only. Production always passes the keys
in the environment (settings refuse to start without them when DEBUG is off).
"""

import json
import os
import secrets
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet


def load_or_create(path: Path) -> dict[str, str]:
    """The keys stored at `path`: {"PII_ENCRYPTION_KEYS": "k1[,k2…]", "PII_HASH_KEY": "…"},
    written there first (mode 0600, parent directory created) if the file does not exist."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        keys = {
            "PII_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "PII_HASH_KEY": secrets.token_urlsafe(48),
        }
        # Written whole to a private temporary file (mkstemp makes it 0600), then linked into
        # place: the link fails if another process (web server and worker starting together)
        # got there first, and nobody ever reads a half-written file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".local_keys.")
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(keys, out, indent=2)
                out.write("\n")
            os.link(tmp, path)
        except FileExistsError:
            pass
        else:
            return keys
        finally:
            os.unlink(tmp)
    with path.open() as stored:
        return json.load(stored)
