"""Ed25519 keys for the ledger: signing and checking statements, key files, fingerprints, and a
private key sealed by a password.

- **Signatures** are Ed25519 (RFC 8032) over the canonical JSON of a statement
  (``reports.ledger.schema.canonical``), through the ``cryptography`` package; they travel as
  base64 text.
- **Fingerprint** of a public key: ``ed25519:`` and the first 32 hex digits (128 bits) of the
  SHA-256 of its 32 raw bytes. It is what a board publishes so that a reader can compare it with
  the one an export prints.
- **Key files** (the ledger's key, an app host's key) are PKCS#8 PEM, created with mode 0600 in a
  folder of mode 0700, never overwritten.
- **Sealed private key** (a local account's key): the 32 raw bytes encrypted with AES-256-GCM under
  a key derived from the password with Argon2id (RFC 9106; t=3, m=64 MiB, p=4, the
  ``argon2-cffi`` defaults), the fingerprint as associated data. Without the password the sealed
  key is useless; with a wrong one, decryption fails its authentication tag.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import stat
from pathlib import Path

from audits.core.errors import InputError
from reports.ledger.schema import canonical

__all__ = ["new_key", "fingerprint", "fingerprint_b64", "public_b64", "public_from_b64", "sign",
           "check", "load_key", "create_key_file", "loose_permissions", "seal", "unseal", "KDF"]

#: Argon2id parameters of a sealed key (RFC 9106's low-memory recommendation).
KDF = {"name": "argon2id", "time_cost": 3, "memory_cost": 65536, "parallelism": 4}


def _ed25519():
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519


def new_key():
    """A fresh Ed25519 private key."""
    return _ed25519().Ed25519PrivateKey.generate()


def _raw_public(key) -> bytes:
    from cryptography.hazmat.primitives import serialization as ser

    pub = key.public_key() if hasattr(key, "public_key") else key
    return pub.public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)


def fingerprint(key) -> str:
    """``ed25519:`` + 32 hex digits of SHA-256(raw public key) (a private or public key)."""
    return "ed25519:" + hashlib.sha256(_raw_public(key)).hexdigest()[:32]


def fingerprint_b64(public: str) -> str:
    """The fingerprint of a public key given as base64 text."""
    return "ed25519:" + hashlib.sha256(base64.b64decode(public)).hexdigest()[:32]


def public_b64(key) -> str:
    """The raw public key as base64 text (what the ledger stores)."""
    return base64.b64encode(_raw_public(key)).decode("ascii")


def public_from_b64(text: str):
    return _ed25519().Ed25519PublicKey.from_public_bytes(base64.b64decode(text))


def sign(key, statement: dict) -> str:
    """Ed25519 signature of the statement's canonical JSON, as base64 text."""
    return base64.b64encode(key.sign(canonical(statement))).decode("ascii")


def check(public, statement: dict, signature: str | None) -> bool:
    """True when ``signature`` is a valid signature of ``statement`` by ``public`` (a public key
    object or base64 text); False for any malformed input."""
    from cryptography.exceptions import InvalidSignature

    if not signature:
        return False
    try:
        pub = public_from_b64(public) if isinstance(public, str) else public
        pub.verify(base64.b64decode(signature, validate=True), canonical(statement))
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


# -- key files ---------------------------------------------------------------------------------
def load_key(path: Path):
    """The private key in a PEM file, or None when the file does not exist.

    Raises
    ------
    InputError
        When the file exists but is not an unencrypted Ed25519 PKCS#8 key.
    """
    from cryptography.hazmat.primitives import serialization as ser

    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise InputError(f"The key file {path} cannot be read ({e}); check its owner and "
                         "mode (it should be readable by its owner only).") from e
    try:
        key = ser.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise InputError(f"The key file {path} is not a readable Ed25519 private key ({e}). "
                         "Restore it from your backup.") from e
    if not isinstance(key, _ed25519().Ed25519PrivateKey):
        raise InputError(f"The key file {path} holds a {type(key).__name__}, not an Ed25519 "
                         "key. Restore the ledger's own key from your backup.")
    return key


def create_key_file(path: Path):
    """Create a new Ed25519 key at ``path`` (mode 0600, folder 0700); never overwrites. When
    another process created it first, that key is returned."""
    from cryptography.hazmat.primitives import serialization as ser

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = new_key()
    pem = key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_key(path)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key


def loose_permissions(path: Path) -> bool:
    """True when a key file is readable or writable by its group or others."""
    try:
        return bool(Path(path).stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    except OSError:
        return False


# -- a private key sealed by a password --------------------------------------------------------
def _kek(password: str, salt: bytes, kdf: dict) -> bytes:
    from argon2.low_level import Type, hash_secret_raw

    if kdf.get("name") != "argon2id":
        raise InputError(f"Unknown key-derivation function {kdf.get('name')!r} in the roster.")
    return hash_secret_raw(password.encode("utf-8"), salt, time_cost=int(kdf["time_cost"]),
                           memory_cost=int(kdf["memory_cost"]),
                           parallelism=int(kdf["parallelism"]), hash_len=32, type=Type.ID)


def seal(key, password: str) -> dict:
    """The private key's raw bytes encrypted under the password (plain data for the roster)."""
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    raw = key.private_bytes(ser.Encoding.Raw, ser.PrivateFormat.Raw, ser.NoEncryption())
    ct = AESGCM(_kek(password, salt, KDF)).encrypt(nonce, raw, fingerprint(key).encode())
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return {"kdf": dict(KDF), "salt": b64(salt), "cipher": "aes-256-gcm", "nonce": b64(nonce),
            "ciphertext": b64(ct)}


def unseal(sealed: dict, password: str, expected_fingerprint: str):
    """The private key sealed by :func:`seal`, or None when the password is wrong (or the sealed
    data or the fingerprint it is bound to was altered)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        kek = _kek(password, base64.b64decode(sealed["salt"]), sealed["kdf"])
        raw = AESGCM(kek).decrypt(base64.b64decode(sealed["nonce"]),
                                  base64.b64decode(sealed["ciphertext"]),
                                  expected_fingerprint.encode())
    except (InvalidTag, KeyError, ValueError, TypeError):
        return None
    key = _ed25519().Ed25519PrivateKey.from_private_bytes(raw)
    return key if fingerprint(key) == expected_fingerprint else None
